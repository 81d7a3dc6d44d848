// Seed 001, "Chart.js와 함께 사용": p95 per model over the last hour as a line chart.
// Gaps (null: no requests in the window) stay gaps. The `time` scale needs a date adapter
// at run time, e.g. `import "chartjs-adapter-date-fns"`.
import { Chart, type ChartDataset } from "chart.js";
import { createClient, type RangeSeriesItem } from "../src/client";

type Point = { x: number; y: number | null };

const api = createClient({ baseUrl: "http://localhost:8000" });

export function datasets(series: RangeSeriesItem[]): ChartDataset<"line", Point[]>[] {
  return series.map((model) => ({
    label: model.model,
    data: model.data_points.map((point) => ({ x: point.timestamp * 1000, y: point.p95_latency_ms })),
    spanGaps: false,
  }));
}

export async function drawRangeChart(canvas: HTMLCanvasElement): Promise<Chart<"line", Point[]>> {
  const range = await api.p95Range({ duration: "1h", step: "5m" });
  return new Chart<"line", Point[]>(canvas, {
    type: "line",
    data: { datasets: datasets(range.data) },
    options: {
      parsing: false,
      scales: {
        x: { type: "time" },
        y: { title: { display: true, text: "P95 Latency (ms)" } },
      },
    },
  });
}
