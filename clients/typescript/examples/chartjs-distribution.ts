// The latency distribution as a Chart.js bar chart: one bar per histogram bucket of
// `GET /api/metrics/distribution/` (its share of requests), with the p50/p95/p99 of
// `GET /api/models/` named in the title. Chart.js needs its controllers registered.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Title, Tooltip } from "chart.js";
import { createClient, type BucketItem } from "../src/client";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Title, Tooltip);

const api = createClient({ baseUrl: "http://localhost:8000" });

export function bucketLabel(bucket: BucketItem): string {
  if (bucket.le_ms === null) return `> ${bucket.lower_ms ?? 0} ms`;
  return `≤ ${bucket.le_ms} ms`;
}

export async function drawDistribution(
  canvas: HTMLCanvasElement,
  model: string,
  histogram = { metric_name: "vllm:e2e_request_latency_seconds", model_label: "model_name" },
): Promise<Chart<"bar", (number | null)[], string>> {
  const [distribution, scorecard] = await Promise.all([
    api.distribution({ ...histogram, model: [model], time_range: "5m" }),
    api.models({ model: [model] }),
  ]);
  const buckets = distribution.data.find((item) => item.model === model)?.buckets ?? [];
  const latency = scorecard.data[0]?.latency_ms ?? null;
  const marks = ["p50", "p95", "p99"]
    .map((key) => `${key} ${latency?.[key]?.toFixed(0) ?? "—"} ms`)
    .join(" · ");
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: buckets.map(bucketLabel),
      datasets: [
        {
          label: "share of requests (%)",
          data: buckets.map((bucket) => (bucket.share === null ? null : bucket.share * 100)),
        },
      ],
    },
    options: {
      plugins: { title: { display: true, text: `${model}: ${marks}` } },
      scales: { y: { beginAtZero: true, title: { display: true, text: "% of requests" } } },
    },
  });
}
