// A model status page's table from GET /api/models/: one row per model and source, with
// latency, time to first token, inter-token latency, queue time, throughput and success.
import { createClient, type ModelRow } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

type Latency = ModelRow["latency_ms"];

/** p95 (or the mean, for exporters without percentiles) in ms; "—" without traffic or metric. */
function ms(latency: Latency, key: string = "p95"): string {
  const value = latency?.[key] ?? latency?.["mean"] ?? null;
  return value === null ? "—" : `${value.toFixed(1)} ms`;
}

function perSecond(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(1)}/s`;
}

function percent(ratio: number | null): string {
  return ratio === null ? "—" : `${(ratio * 100).toFixed(2)}%`;
}

const COLUMNS: [string, (row: ModelRow) => string][] = [
  ["Model", (row) => row.model],
  ["Source", (row) => row.source],
  ["Status", (row) => row.status],
  ["Latency p95", (row) => ms(row.latency_ms)],
  ["TTFT p95", (row) => ms(row.ttft_ms)],
  ["ITL p95", (row) => ms(row.inter_token_latency_ms)],
  ["Queue p95", (row) => ms(row.queue_ms)],
  ["Requests", (row) => perSecond(row.requests_per_second)],
  ["Output tokens", (row) => perSecond(row.output_tokens_per_second)],
  ["Success", (row) => percent(row.success_ratio)],
];

export async function renderModelTable(table: HTMLTableElement): Promise<void> {
  const answer = await api.models({ window: "5m", percentiles: "50,95,99" });
  const head = table.createTHead().insertRow();
  for (const [title] of COLUMNS) head.insertCell().textContent = title;
  const body = table.createTBody();
  for (const row of answer.data) {
    const line = body.insertRow();
    line.dataset["status"] = row.status;
    for (const [, cell] of COLUMNS) line.insertCell().textContent = cell(row);
  }
  // Signals no exporter here has (TGI has no TTFT, OpenTelemetry no queue time).
  if (answer.missing.length > 0) {
    table.createCaption().textContent = `Not exported here: ${answer.missing.join(", ")}`;
  }
}
