/**
 * A small typed client for Model Latency API: one function per endpoint, on `fetch`,
 * with no runtime dependency. Response and parameter types come from `schema.d.ts`,
 * generated from the service's OpenAPI document (`make types`); the stream's types are
 * written by hand below until the endpoint is in that document.
 *
 *     const api = createClient({ baseUrl: "http://localhost:8000" });
 *     const { data } = await api.p95({ time_range: "10m" });
 *     for (const item of data) console.log(item.model, item.p95_latency_ms?.toFixed(1) ?? "no data");
 *
 * A latency is `number | null`: null when a model had no requests in the window.
 */
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type QueryOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } }
  ? NonNullable<Q>
  : never;

export type SummaryResponse = Schemas["SummaryResponse"];
export type SummaryItem = Schemas["SummaryItem"];
export type P95Response = Schemas["P95Response"];
export type P95Item = Schemas["P95Item"];
export type RangeResponse = Schemas["RangeResponse"];
export type RangeSeriesItem = Schemas["RangeSeriesItem"];
export type RangePoint = Schemas["RangePoint"];
export type PercentilesResponse = Schemas["PercentilesResponse"];
export type PercentileItem = Schemas["PercentileItem"];
export type HistoryResponse = Schemas["HistoryResponse"];
export type HistoryPoint = Schemas["HistoryPoint"];
export type StatusConfig = Schemas["StatusConfig"];
export type ErrorResponse = Schemas["ErrorResponse"];
export type HealthResponse = Schemas["HealthResponse"];
export type LivenessResponse = Schemas["LivenessResponse"];
export type ReadinessResponse = Schemas["ReadinessResponse"];
export type CollectionHealthResponse = Schemas["CollectionHealthResponse"];
export type SystemMetricsResponse = Schemas["SystemMetricsResponse"];
export type ModelsResponse = Schemas["ModelsResponse"];
export type ModelRow = Schemas["ModelRow"];
export type ModelsRangeResponse = Schemas["ModelsRangeResponse"];
export type ModelSeries = Schemas["ModelSeries"];
export type ModelValues = Schemas["ModelValues"];
export type SignalPoint = Schemas["SignalPoint"];
export type SLOResponse = Schemas["SLOResponse"];
export type SLOItem = Schemas["SLOItem"];
export type DistributionResponse = Schemas["DistributionResponse"];
export type DistributionItem = Schemas["DistributionItem"];
export type BucketItem = Schemas["BucketItem"];
export type DistributionRangeResponse = Schemas["DistributionRangeResponse"];
export type LatencyHistogram = Schemas["LatencyHistogram"];

export type SummaryParams = QueryOf<"/api/metrics/">;
export type P95Params = QueryOf<"/api/metrics/p95/">;
export type RangeParams = QueryOf<"/api/metrics/p95/range/">;
export type PercentilesParams = QueryOf<"/api/metrics/percentiles/">;
export type HistoryParams = QueryOf<"/api/metrics/history/">;
export type ModelsParams = QueryOf<"/api/models/">;
export type ModelsRangeParams = QueryOf<"/api/models/range/">;
/** `GET /api/models/stream/`: the parameters of /api/models/ plus seconds between events. */
export type ModelsStreamParams = QueryOf<"/api/models/stream/">;
export type SLOParams = QueryOf<"/api/metrics/slo/">;
export type DistributionParams = QueryOf<"/api/metrics/distribution/">;
export type DistributionRangeParams = QueryOf<"/api/metrics/distribution/range/">;

export interface ModelsStreamHandlers {
  /** Event `models`: the same JSON as `GET /api/models/`. */
  models: (data: ModelsResponse) => void;
  /** Event `error` sent by the service: the error JSON (Prometheus unreachable, bad parameter). */
  error?: (body: ErrorResponse) => void;
  /** The connection failed or dropped; EventSource reconnects by itself unless closed. */
  disconnected?: (event: Event) => void;
}

/** `GET /api/metrics/stream/`: the parameters of /percentiles/ plus seconds between events. */
export interface StreamParams extends PercentilesParams {
  interval?: number;
}

export interface StreamHandlers {
  /** Event `percentiles`: the same JSON as `GET /api/metrics/percentiles/`. */
  percentiles: (data: PercentilesResponse) => void;
  /** Event `error` sent by the service: the error JSON (Prometheus unreachable, bad parameter). */
  error?: (body: ErrorResponse) => void;
  /** The connection failed or dropped; EventSource reconnects by itself unless closed. */
  disconnected?: (event: Event) => void;
}

export interface Subscription {
  readonly source: EventSource;
  close(): void;
}

export interface ClientOptions {
  /** Where the service answers, path prefix included (`https://host/latency`); default the page's origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** For `subscribe()` outside a browser (e.g. the `eventsource` package in Node). */
  EventSource?: typeof EventSource;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A non-2xx answer; `body` is the service's error JSON when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorResponse | null;

  constructor(message: string, status: number, body: ErrorResponse | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/** Query string as FastAPI reads it: lists repeat the name (`model=a&model=b`), nulls are left out. */
export function queryString(params: object = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params) as [string, QueryValue][]) {
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) search.append(name, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function isErrorBody(body: unknown): body is ErrorResponse {
  return typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string";
}

export function createClient(options: ClientOptions = {}) {
  const base = (options.baseUrl ?? "").replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const url = (path: string, params?: object) => `${base}${path}${queryString(params)}`;

  // Health endpoints answer 503 with the same body when unhealthy: `alsoOk` returns it too.
  async function get<T>(path: string, params?: object, init: RequestOptions = {}, alsoOk: number[] = []): Promise<T> {
    const headers = { Accept: "application/json", ...options.headers };
    const response = await doFetch(url(path, params), { headers, signal: init.signal });
    const body: unknown = await response.json().catch(() => null);
    if (response.ok || alsoOk.includes(response.status)) return body as T;
    const message = isErrorBody(body) ? body.error : `HTTP ${response.status}`;
    throw new ApiError(message, response.status, isErrorBody(body) ? body : null);
  }

  return {
    /** `GET /api/metrics/`: p50, p95 and p99 of every model now. */
    summary: (params?: SummaryParams, init?: RequestOptions) =>
      get<SummaryResponse>("/api/metrics/", params, init),
    /** `GET /api/metrics/p95/`: p95 of every model now. */
    p95: (params?: P95Params, init?: RequestOptions) => get<P95Response>("/api/metrics/p95/", params, init),
    /** `GET /api/metrics/p95/range/`: p95 per model over `duration`, one point per `step`. */
    p95Range: (params?: RangeParams, init?: RequestOptions) =>
      get<RangeResponse>("/api/metrics/p95/range/", params, init),
    /** `GET /api/metrics/percentiles/`: several percentiles (`"50,95,99"`) per model. */
    percentiles: (params?: PercentilesParams, init?: RequestOptions) =>
      get<PercentilesResponse>("/api/metrics/percentiles/", params, init),
    /** `GET /api/metrics/history/`: the last `hours` of p95 with ISO 8601 timestamps. */
    history: (params?: HistoryParams, init?: RequestOptions) =>
      get<HistoryResponse>("/api/metrics/history/", params, init),
    /** `GET /api/models/`: latency, TTFT, ITL, queue time, rates and success ratio per model and source. */
    models: (params?: ModelsParams, init?: RequestOptions) => get<ModelsResponse>("/api/models/", params, init),
    /** `GET /api/models/range/`: the same signals over time (`signals: "latency_p95,ttft_p95"`). */
    modelsRange: (params?: ModelsRangeParams, init?: RequestOptions) =>
      get<ModelsRangeResponse>("/api/models/range/", params, init),
    /** `GET /api/metrics/slo/`: share of requests at or below `threshold_ms`, against `objective` (%). */
    slo: (params: SLOParams, init?: RequestOptions) => get<SLOResponse>("/api/metrics/slo/", params, init),
    /** `GET /api/metrics/distribution/`: every histogram bucket of every model (bar charts). */
    distribution: (params?: DistributionParams, init?: RequestOptions) =>
      get<DistributionResponse>("/api/metrics/distribution/", params, init),
    /** `GET /api/metrics/distribution/range/`: the buckets at each step (heatmaps). */
    distributionRange: (params?: DistributionRangeParams, init?: RequestOptions) =>
      get<DistributionRangeResponse>("/api/metrics/distribution/range/", params, init),
    /** `GET /api/status/config/`: the status page's thresholds, refresh period and SLO defaults. */
    statusConfig: (init?: RequestOptions) => get<StatusConfig>("/api/status/config/", undefined, init),
    /** `GET /health`: every check; `status` says healthy, degraded or unhealthy (also on 503). */
    health: (init?: RequestOptions) => get<HealthResponse>("/health", undefined, init, [503]),
    /** `GET /health/live`: the process answers. */
    live: (init?: RequestOptions) => get<LivenessResponse>("/health/live", undefined, init),
    /** `GET /health/ready`: Prometheus answers (also on 503, with the reason). */
    ready: (init?: RequestOptions) => get<ReadinessResponse>("/health/ready", undefined, init, [503]),
    /** `GET /api/health/`: the collector API's health shape (also on 503). */
    collectionHealth: (init?: RequestOptions) =>
      get<CollectionHealthResponse>("/api/health/", undefined, init, [503]),
    /** `GET /health/metrics`: process and host figures. */
    systemMetrics: (init?: RequestOptions) => get<SystemMetricsResponse>("/health/metrics", undefined, init),
    /**
     * `GET /api/metrics/stream/` (Server-Sent Events): `percentiles` every `interval` seconds.
     *
     *     const sub = api.subscribe({ interval: 5 }, { percentiles: (r) => render(r.data) });
     *     sub.close();
     */
    subscribe(params: StreamParams, handlers: StreamHandlers): Subscription {
      const Source = options.EventSource ?? globalThis.EventSource;
      const source = new Source(url("/api/metrics/stream/", params));
      source.addEventListener("percentiles", (event) => {
        handlers.percentiles(JSON.parse((event as MessageEvent<string>).data) as PercentilesResponse);
      });
      // One event name, two meanings: the service's `event: error` carries data; the
      // browser's own connection error is a plain Event without it.
      source.addEventListener("error", (event) => {
        const data = (event as Partial<MessageEvent<unknown>>).data;
        if (typeof data === "string" && data) {
          const body: unknown = JSON.parse(data);
          if (isErrorBody(body)) handlers.error?.(body);
        } else {
          handlers.disconnected?.(event);
        }
      });
      return { source, close: () => source.close() };
    },
    /**
     * `GET /api/models/stream/` (Server-Sent Events): the scorecard every `interval` seconds.
     *
     *     const sub = api.subscribeModels({ compare: "1d" }, { models: (r) => render(r.data) });
     *     sub.close();
     */
    subscribeModels(params: ModelsStreamParams, handlers: ModelsStreamHandlers): Subscription {
      const Source = options.EventSource ?? globalThis.EventSource;
      const source = new Source(url("/api/models/stream/", params));
      source.addEventListener("models", (event) => {
        handlers.models(JSON.parse((event as MessageEvent<string>).data) as ModelsResponse);
      });
      source.addEventListener("error", (event) => {
        const data = (event as Partial<MessageEvent<unknown>>).data;
        if (typeof data === "string" && data) {
          const body: unknown = JSON.parse(data);
          if (isErrorBody(body)) handlers.error?.(body);
        } else {
          handlers.disconnected?.(event);
        }
      });
      return { source, close: () => source.close() };
    },
  };
}

export type Client = ReturnType<typeof createClient>;
