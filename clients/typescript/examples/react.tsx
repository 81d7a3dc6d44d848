// Seeds 001 ("React 컴포넌트 예시") and 000 ("React 예시"): p95 per model, refreshed every
// five minutes, with the typed client instead of untyped fetch calls.
import { useEffect, useState } from "react";
import { createClient, type P95Item } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

function formatMs(value: number | null): string {
  return value === null ? "no data" : `${value.toFixed(1)}ms`;
}

export function MetricsComponent() {
  const [metrics, setMetrics] = useState<P95Item[]>([]);

  useEffect(() => {
    api.p95().then((data) => setMetrics(data.data));
  }, []);

  return (
    <div>
      {metrics.map((item) => (
        <div key={item.model}>
          {item.model}: {formatMs(item.p95_latency_ms)}
        </div>
      ))}
    </div>
  );
}

export function ModelMetrics() {
  const [metrics, setMetrics] = useState<P95Item[]>([]);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    const controller = new AbortController();
    const fetchMetrics = async () => {
      try {
        const data = await api.p95(undefined, { signal: controller.signal });
        setMetrics(data.data);
      } catch (error) {
        console.error("Error:", error);
      } finally {
        setLoading(false);
      }
    };
    fetchMetrics();
    const interval = setInterval(fetchMetrics, 5 * 60 * 1000);
    return () => {
      clearInterval(interval);
      controller.abort();
    };
  }, []);

  if (loading) return <div>Loading...</div>;

  return (
    <div>
      <h2>Model latency</h2>
      {metrics.map((metric) => (
        <div key={metric.model}>
          <strong>{metric.model}:</strong> {formatMs(metric.p95_latency_ms)}
        </div>
      ))}
    </div>
  );
}
