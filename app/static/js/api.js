// The service's JSON endpoints, and a live feed of one of them: the Server-Sent Events
// stream where the browser and the server allow it, polling otherwise.

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const pageParams = new URLSearchParams(window.location.search);

// A URL under the service's root (the page's <base>), with the non-empty parameters set;
// an array value becomes a repeated parameter.
export function apiUrl(path, params = {}) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) {
      if (one !== null && one !== undefined && one !== "") url.searchParams.append(name, String(one));
    }
  }
  return url;
}

export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch (err) {
    throw new ApiError("The service is not answering", 0, null);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
    throw new ApiError(message, response.status, body);
  }
  return body;
}

const DEFAULT_CONFIG = {
  warning_ms: 100,
  danger_ms: 200,
  refresh_seconds: 15,
  slo_threshold_ms: 1000,
  slo_objective: 99,
  latency_histograms: {},
};

// The page's settings from the server (`refresh=` on the page overrides the period).
export async function loadConfig() {
  let config;
  try {
    config = await getJson(apiUrl("api/status/config/"));
  } catch (err) {
    config = { ...DEFAULT_CONFIG };
  }
  const refresh = Number(pageParams.get("refresh"));
  if (refresh >= 2) config.refresh_seconds = refresh;
  return config;
}

// Follow `path` (GET, JSON) live: every answer goes to `onAnswer`, every failure to
// `onError` (an ApiError). Through `streamPath` (event `event`) when EventSource exists
// and the page asks about now; if the stream cannot be opened or keeps failing, the
// answer is polled every `seconds` instead. `body.dataset.mode` says which.
export class Feed {
  constructor({ path, streamPath, event, params, seconds, pinned, onAnswer, onError }) {
    Object.assign(this, { path, streamPath, event, params, seconds, pinned, onAnswer, onError });
    this.timer = null;
    this.source = null;
  }

  start() {
    if (this.streamPath && !this.pinned && typeof window.EventSource === "function") this.open();
    else this.poll();
  }

  stop() {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
  }

  async poll() {
    clearTimeout(this.timer);
    document.body.dataset.mode = "polling";
    try {
      this.onAnswer(await getJson(apiUrl(this.path, this.params)));
    } catch (err) {
      this.onError(err instanceof ApiError ? err : new ApiError(String(err), 0, null));
    }
    this.timer = setTimeout(() => this.poll(), this.seconds * 1000);
  }

  // Ask now, whatever the mode (statusPage.refresh() in the console and in tests).
  refresh() {
    return this.source ? Promise.resolve() : this.poll();
  }

  open() {
    const source = new EventSource(apiUrl(this.streamPath, { ...this.params, interval: this.seconds }));
    this.source = source;
    document.body.dataset.mode = "stream";
    let failures = 0;
    source.addEventListener(this.event, (message) => {
      failures = 0;
      this.onAnswer(JSON.parse(message.data));
    });
    source.addEventListener("error", (message) => {
      if (message.data) {
        const body = JSON.parse(message.data);
        this.onError(new ApiError(body.error || "Error", 503, body));
      } else if (source.readyState === EventSource.CLOSED || ++failures >= 2) {
        this.stop(); // refused, or failing again and again: poll from now on
        this.poll();
      }
    });
  }
}
