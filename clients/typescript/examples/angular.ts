// Seed 001, "Angular 예시": HttpClient typed with the generated response type instead of `any`.
import { HttpClient, HttpParams } from "@angular/common/http";
import { Component, type OnInit } from "@angular/core";
import type { P95Item, P95Response } from "../src/client";

@Component({
  selector: "app-metrics",
  standalone: true,
  template: `
    @for (metric of metrics; track metric.model) {
      <div>{{ metric.model }}: {{ metric.p95_latency_ms === null ? "no data" : metric.p95_latency_ms + "ms" }}</div>
    }
  `,
})
export class MetricsComponent implements OnInit {
  metrics: P95Item[] = [];

  constructor(private http: HttpClient) {}

  ngOnInit(): void {
    const params = new HttpParams().set("time_range", "5m");
    this.http.get<P95Response>("http://localhost:8000/api/metrics/p95/", { params }).subscribe((data) => {
      this.metrics = data.data;
    });
  }
}
