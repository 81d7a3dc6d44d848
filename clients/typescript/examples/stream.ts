// Live percentiles over Server-Sent Events (`GET /api/metrics/stream/`) instead of polling.
import { createClient } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

export function watch(models: string[]): () => void {
  const subscription = api.subscribe(
    { model: models, percentiles: "50,95,99", interval: 5 },
    {
      percentiles: (response) => {
        for (const item of response.data) {
          const p95 = item.percentiles["p95"];
          console.log(item.model, p95 === null || p95 === undefined ? "no data" : `${p95.toFixed(1)} ms`);
        }
      },
      error: (body) => console.warn("the service reports:", body.error),
      disconnected: () => console.warn("connection lost; the browser reconnects"),
    },
  );
  return () => subscription.close();
}
