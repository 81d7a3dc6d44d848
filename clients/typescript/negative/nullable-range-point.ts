// MUST NOT COMPILE (checked by tests/clients/test_typescript.py): a point of a range is
// `number | null` too (null where Prometheus had no requests in the window), so a chart
// that scales it without a null check is an error (TS18047).
import type { RangePoint } from "../src/client";

export function pixels(point: RangePoint, scale: number): number {
  return point.p95_latency_ms * scale;
}
