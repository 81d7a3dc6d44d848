// Seed 001, "모델 성능 비교 테이블": p50/p95/p99 per model into an existing <table>.
import { createClient } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${value.toFixed(1)}ms`;
}

export async function fillTable(table: HTMLTableElement): Promise<void> {
  const data = await api.percentiles({ percentiles: "50,95,99" });
  data.data.forEach((model) => {
    const row = table.insertRow();
    row.insertCell().textContent = model.model;
    row.insertCell().textContent = ms(model.percentiles["p50"]);
    row.insertCell().textContent = ms(model.percentiles["p95"]);
    row.insertCell().textContent = ms(model.percentiles["p99"]);
  });
}
