// The model table with the change since yesterday: `GET /api/models/?compare=1d`, one row
// per model and source, p95 latency with an arrow for its change against the day before.
import { useEffect, useState } from "react";
import { createClient, type ModelRow } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

function p95(latency: ModelRow["latency_ms"] | undefined): number | null {
  return latency?.["p95"] ?? null;
}

function formatMs(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(1)} ms`;
}

/** ▲ slower, ▼ faster, ▶ about the same (within half a percent); "—" without a yesterday. */
export function ChangeArrow({ pct }: { pct: number | null }) {
  if (pct === null) return <span>—</span>;
  const arrow = pct > 0.5 ? "▲" : pct < -0.5 ? "▼" : "▶";
  const color = pct > 0.5 ? "crimson" : pct < -0.5 ? "seagreen" : "gray";
  return (
    <span style={{ color }} title="p95 latency against a day before">
      {arrow} {pct > 0 ? "+" : ""}
      {pct.toFixed(1)} %
    </span>
  );
}

export function ModelTable({ refreshSeconds = 15 }: { refreshSeconds?: number }) {
  const [rows, setRows] = useState<ModelRow[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const load = () =>
      api
        .models({ compare: "1d" }, { signal: controller.signal })
        .then((answer) => {
          setRows(answer.data);
          setError(answer.stale ? "Prometheus is unreachable: these are the last good numbers" : null);
        })
        .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    void load();
    const timer = setInterval(load, refreshSeconds * 1000);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [refreshSeconds]);

  return (
    <div>
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Model</th>
            <th>Source</th>
            <th>Status</th>
            <th>p95</th>
            <th>TTFT p95</th>
            <th>Output tok/s</th>
            <th>Success</th>
            <th>vs yesterday</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.source}/${row.model}`}>
              <td>
                <a href={`/models/?model=${encodeURIComponent(row.model)}&source=${row.source}`}>{row.model}</a>
              </td>
              <td>{row.source}</td>
              <td>{row.status}</td>
              <td>{formatMs(p95(row.latency_ms))}</td>
              <td>{formatMs(p95(row.ttft_ms))}</td>
              <td>{row.output_tokens_per_second?.toFixed(1) ?? "—"}</td>
              <td>{row.success_ratio === null ? "—" : `${(row.success_ratio * 100).toFixed(2)} %`}</td>
              <td>
                <ChangeArrow pct={p95(row.change_pct?.latency_ms)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
