// Seed 000, status.js: each model's p95 coloured good / warning / danger, refreshed every
// five minutes. Changes from the seed: thresholds from /api/status/config/ rather than
// fixed 100/200 ms, a model without traffic (p95 null) shown as such instead of throwing
// on `null.toFixed`, and textContent instead of innerHTML (a model name is outside data).
import { createClient, type P95Item, type StatusConfig } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

type State = { label: string; className: string };

export function classify(p95: number | null, config: Pick<StatusConfig, "warning_ms" | "danger_ms">): State {
  if (p95 === null) return { label: "No traffic", className: "status-nodata" };
  if (p95 < config.warning_ms) return { label: "✅ Good", className: "status-good" };
  if (p95 < config.danger_ms) return { label: "⚠️ Warning", className: "status-warning" };
  return { label: "🚨 Danger", className: "status-danger" };
}

function metricItem(metric: P95Item, config: StatusConfig): HTMLDivElement {
  const state = classify(metric.p95_latency_ms, config);
  const div = document.createElement("div");
  div.className = "metric-item";
  const name = document.createElement("div");
  name.className = "model-name";
  name.textContent = metric.model;
  const value = document.createElement("div");
  value.className = "metric-value";
  value.textContent = metric.p95_latency_ms === null ? "P95: —" : `P95: ${metric.p95_latency_ms.toFixed(2)}ms`;
  const status = document.createElement("div");
  status.className = `metric-status ${state.className}`;
  status.textContent = state.label;
  div.append(name, value, status);
  return div;
}

export function displayMetrics(metrics: P95Item[], config: StatusConfig): void {
  const container = document.getElementById("metrics-container");
  if (!container) return;
  container.replaceChildren(...metrics.map((metric) => metricItem(metric, config)));
}

export async function loadModelMetrics(): Promise<void> {
  try {
    const [config, data] = await Promise.all([api.statusConfig(), api.p95()]);
    if (data.status === "success") displayMetrics(data.data, config);
  } catch (error) {
    console.error("Could not load metrics:", error);
  }
}

setInterval(loadModelMetrics, 5 * 60 * 1000);
loadModelMetrics();
