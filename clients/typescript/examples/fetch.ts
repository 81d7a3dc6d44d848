// Seed 001, "Fetch API 사용": every model's p95 now, with plain fetch and the generated types.
import type { P95Response } from "../src/client";

export async function logP95(baseUrl = "http://localhost:8000"): Promise<void> {
  const response = await fetch(`${baseUrl}/api/metrics/p95/`);
  const data = (await response.json()) as P95Response;
  console.log("p95 per model:", data.data);
  data.data.forEach((item) => {
    // p95_latency_ms is null for a model with no requests in the window.
    console.log(`${item.model}: ${item.p95_latency_ms ?? "no data"}ms`);
  });
}
