// An Angular service for the model scorecard: the table now (`GET /api/models/`), one
// model's signals over time (`/api/models/range/`), and the live table over Server-Sent
// Events (`/api/models/stream/`) as an Observable, for components to `| async`.
import { HttpClient, HttpParams } from "@angular/common/http";
import { Injectable, NgZone } from "@angular/core";
import { Observable } from "rxjs";
import type { ModelRow, ModelsRangeResponse, ModelsResponse } from "../src/client";

const BASE = "http://localhost:8000";

@Injectable({ providedIn: "root" })
export class ScorecardService {
  constructor(
    private http: HttpClient,
    private zone: NgZone,
  ) {}

  /** Every model and source now, with `previous` and `change_pct` against a day before. */
  table(window = "5m"): Observable<ModelsResponse> {
    const params = new HttpParams().set("window", window).set("compare", "1d");
    return this.http.get<ModelsResponse>(`${BASE}/api/models/`, { params });
  }

  /** One model's p95 latency, TTFT and throughput over `duration`, a point per `step`. */
  series(model: string, source: string, duration = "1h", step = "1m"): Observable<ModelsRangeResponse> {
    const params = new HttpParams()
      .set("model", model)
      .set("profile", source)
      .set("duration", duration)
      .set("step", step)
      .set("signals", "latency_p95,ttft_p95,output_tokens_per_second,success_ratio");
    return this.http.get<ModelsRangeResponse>(`${BASE}/api/models/range/`, { params });
  }

  /** The table pushed every `interval` seconds; completes never, errors when the stream fails. */
  live(interval = 15): Observable<ModelRow[]> {
    return new Observable<ModelRow[]>((subscriber) => {
      const source = new EventSource(`${BASE}/api/models/stream/?compare=1d&interval=${interval}`);
      source.addEventListener("models", (event) => {
        const answer = JSON.parse((event as MessageEvent<string>).data) as ModelsResponse;
        this.zone.run(() => subscriber.next(answer.data));
      });
      source.addEventListener("error", (event) => {
        if (!(event instanceof MessageEvent) && source.readyState === EventSource.CLOSED) {
          this.zone.run(() => subscriber.error(new Error("the model stream closed")));
        }
      });
      return () => source.close();
    });
  }
}
