// The model table live: `EventSource` on `GET /api/models/stream/` (every `interval`
// seconds the `/api/models/` answer, `compare=1d` included), with the typed client's
// `subscribeModels` and, below, with a bare EventSource.
import { createClient, type ModelRow, type ModelsResponse } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

function line(row: ModelRow): string {
  const p95 = row.latency_ms?.["p95"] ?? null;
  const change = row.change_pct?.latency_ms?.["p95"] ?? null;
  const since = change === null ? "" : ` (${change > 0 ? "+" : ""}${change.toFixed(1)} % vs yesterday)`;
  return `${row.model} [${row.source}] ${row.status}: p95 ${p95 === null ? "—" : `${p95.toFixed(1)} ms`}${since}`;
}

export function watchModels(render: (lines: string[]) => void): () => void {
  const subscription = api.subscribeModels(
    { compare: "1d", interval: 15 },
    {
      models: (answer) => render(answer.data.map(line)),
      error: (body) => console.warn("the service reports:", body.error),
      disconnected: () => console.warn("connection lost; the browser reconnects"),
    },
  );
  return () => subscription.close();
}

export function watchWithEventSource(onRows: (rows: ModelRow[], stale: boolean) => void): EventSource {
  const source = new EventSource("http://localhost:8000/api/models/stream/?compare=1d&interval=15");
  source.addEventListener("models", (event: MessageEvent<string>) => {
    const answer = JSON.parse(event.data) as ModelsResponse;
    onRows(answer.data, answer.stale);
  });
  return source;
}
