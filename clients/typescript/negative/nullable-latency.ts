// MUST NOT COMPILE (checked by tests/clients/test_typescript.py): p95_latency_ms is
// `number | null` in the generated types, so calling .toFixed without a null check is an
// error (TS18047), the bug seed 000's status.js has for a model without traffic.
import type { P95Item } from "../src/client";

export function label(item: P95Item): string {
  return `${item.model}: ${item.p95_latency_ms.toFixed(2)}ms`;
}
