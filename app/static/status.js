// Status page of Model Latency API: reads the service's own JSON endpoints and nothing else.
//
// Optional query parameters of the page, passed on to the API:
//   time=<unix seconds or RFC 3339>  evaluate at that moment instead of now (chart ends there)
//   time_range=5m                    rate window of the percentiles
//   model=a&model=b                  only these models
//   refresh=30                       seconds between refreshes (default from the server)
"use strict";

(() => {
  const CHART_DURATION = "1h";
  const CHART_STEP = "1m";
  const DEFAULT_CONFIG = { warning_ms: 100, danger_ms: 200, refresh_seconds: 15 };
  const PALETTE = ["#0969da", "#8250df", "#bf3989", "#1b7c83", "#bc4c00", "#4d2d00", "#116329", "#953800", "#6639ba", "#0550ae"];
  const STATE_LABELS = { good: "Good", warning: "Warning", danger: "Danger", nodata: "No traffic" };
  const SVG_NS = "http://www.w3.org/2000/svg";

  const pageParams = new URLSearchParams(window.location.search);
  const view = { config: null, summary: null, series: null, timer: null, refreshes: 0, lastGood: null };

  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  // ---- data -------------------------------------------------------------------------------

  function apiUrl(path, extra) {
    const url = new URL(path, document.baseURI);
    for (const name of ["time_range", "model"]) {
      for (const value of pageParams.getAll(name)) url.searchParams.append(name, value);
    }
    for (const [name, value] of Object.entries(extra || {})) {
      if (value !== null && value !== undefined) url.searchParams.set(name, value);
    }
    return url;
  }

  async function getJson(url) {
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

  async function loadConfig() {
    const config = await getJson(new URL("api/status/config/", document.baseURI));
    const refresh = Number(pageParams.get("refresh"));
    if (refresh >= 2) config.refresh_seconds = refresh;
    return config;
  }

  function loadSummary() {
    return getJson(apiUrl("api/metrics/", { time: pageParams.get("time") }));
  }

  function loadSeries() {
    const extra = { duration: CHART_DURATION, step: CHART_STEP, end: pageParams.get("time") };
    return getJson(apiUrl("api/metrics/p95/range/", extra));
  }

  // ---- formatting -------------------------------------------------------------------------

  function classify(p95, config) {
    if (p95 === null || p95 === undefined) return "nodata";
    if (p95 < config.warning_ms) return "good";
    if (p95 < config.danger_ms) return "warning";
    return "danger";
  }

  function formatMs(value) {
    if (value === null || value === undefined) return "—";
    return `${value.toFixed(1)} ms`;
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function element(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- table ------------------------------------------------------------------------------

  function modelRow(item, config) {
    const state = classify(item.p95_latency_ms, config);
    const row = element("tr", { "data-model": item.model, "data-state": state });
    row.append(element("td", { class: "model" }, item.model));
    const cell = element("td", { class: "state" });
    cell.append(element("span", { class: `badge badge-${state}` }, STATE_LABELS[state]));
    row.append(cell);
    for (const [key, label] of [["p50_latency_ms", "p50"], ["p95_latency_ms", "p95"], ["p99_latency_ms", "p99"]]) {
      row.append(element("td", { class: `num ${label}`, "data-label": label }, formatMs(item[key])));
    }
    return row;
  }

  function renderTable(summary, config) {
    const body = document.querySelector("#models tbody");
    body.replaceChildren(...summary.data.map((item) => modelRow(item, config)));
    document.getElementById("empty").hidden = summary.data.length > 0;
    const range = summary.data.length ? summary.data[0].time_range : pageParams.get("time_range") || "5m";
    document.getElementById("window").textContent = `(rate over ${range}, at ${clock(new Date(summary.last_updated))})`;
    document.getElementById("key").textContent =
      `p95 below ${config.warning_ms} ms is good, below ${config.danger_ms} ms a warning, otherwise danger.`;
  }

  // ---- chart ------------------------------------------------------------------------------

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const power = 10 ** Math.floor(Math.log10(raw));
    const factor = [1, 2, 2.5, 5, 10].find((f) => f * power >= raw);
    return factor * power;
  }

  function yTicks(max) {
    const step = niceStep(max, 4);
    const ticks = [];
    for (let value = 0; value <= max + step / 2; value += step) ticks.push(value);
    return ticks;
  }

  // Break the line where Prometheus had no answer; a lone point draws as a dot (round cap).
  function pathData(points, x, y) {
    const parts = [];
    let drawing = false;
    for (const point of points) {
      if (point.p95_latency_ms === null) {
        drawing = false;
        continue;
      }
      const px = x(point.timestamp).toFixed(1);
      const py = y(point.p95_latency_ms).toFixed(1);
      parts.push(drawing ? `L${px} ${py}` : `M${px} ${py} l0 0`);
      drawing = true;
    }
    return parts.join(" ");
  }

  function chartFrame(width, height) {
    return svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": "p95 latency per model over the last hour",
    });
  }

  function drawAxes(root, box, x, y, ticks, start, end) {
    const axis = svg("g", { class: "axis" });
    for (const value of ticks) {
      axis.append(svg("line", { class: "grid", x1: box.left, x2: box.right, y1: y(value), y2: y(value) }));
      axis.append(svg("text", { x: box.left - 6, y: y(value) + 4, "text-anchor": "end" }, `${value} ms`));
    }
    const quarter = 15 * 60;
    for (let t = Math.ceil(start / quarter) * quarter; t <= end; t += quarter) {
      const label = new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      axis.append(svg("text", { x: x(t), y: box.bottom + 16, "text-anchor": "middle" }, label));
    }
    root.append(axis);
  }

  function drawThresholds(root, box, y, config, max) {
    for (const [name, value] of [["warning", config.warning_ms], ["danger", config.danger_ms]]) {
      if (value <= max) {
        root.append(svg("line", { class: `threshold threshold-${name}`, x1: box.left, x2: box.right, y1: y(value), y2: y(value) }));
      }
    }
  }

  function renderLegend(series) {
    const legend = document.getElementById("chart-legend");
    legend.replaceChildren(
      ...series.map((item, index) => {
        const entry = element("li", { "data-model": item.model });
        const swatch = element("span", { class: "swatch" });
        swatch.style.background = PALETTE[index % PALETTE.length];
        const points = item.data_points.filter((p) => p.p95_latency_ms !== null).length;
        entry.append(swatch, document.createTextNode(points ? item.model : `${item.model} (no data)`));
        return entry;
      }),
    );
  }

  function renderChart(range, config) {
    const container = document.getElementById("chart");
    const width = Math.max(280, Math.round(container.clientWidth || 600));
    const height = width < 480 ? 200 : 260;
    const box = { left: 64, right: width - 12, top: 10, bottom: height - 26 };
    const root = chartFrame(width, height);
    const values = range.data.flatMap((s) => s.data_points.map((p) => p.p95_latency_ms)).filter((v) => v !== null);
    const top = Math.max(...values, config.warning_ms) * 1.1;
    const ticks = yTicks(top);
    const max = ticks[ticks.length - 1];
    const span = Math.max(1, range.end - range.start);
    const x = (t) => box.left + ((t - range.start) / span) * (box.right - box.left);
    const y = (v) => box.bottom - (v / max) * (box.bottom - box.top);
    drawAxes(root, box, x, y, ticks, range.start, range.end);
    drawThresholds(root, box, y, config, max);
    range.data.forEach((item, index) => {
      const points = item.data_points.filter((p) => p.p95_latency_ms !== null).length;
      if (!points) return;
      const path = svg("path", {
        class: "series",
        d: pathData(item.data_points, x, y),
        stroke: PALETTE[index % PALETTE.length],
        "data-model": item.model,
        "data-points": points,
      });
      path.append(svg("title", {}, item.model));
      root.append(path);
    });
    if (!values.length) {
      root.append(svg("text", { class: "message", x: width / 2, y: height / 2, "text-anchor": "middle" }, "No data in the last hour yet."));
    }
    container.replaceChildren(root);
    renderLegend(range.data);
  }

  function renderChartError(err) {
    const container = document.getElementById("chart");
    const message = element("p", { class: "empty" }, `Chart unavailable: ${err.message}.`);
    container.replaceChildren(message);
  }

  // ---- banner and refresh -----------------------------------------------------------------

  function describeFailure(err) {
    if (err.status === 0) return `The service is not answering. Retrying every ${view.config.refresh_seconds} s.`;
    if (err.status >= 502 && err.status <= 504) {
      const upstream = err.body && err.body.details && err.body.details.upstream;
      const what = err.message.startsWith("Prometheus") ? err.message : `Prometheus is unreachable: ${err.message}`;
      return `${what}${upstream ? ` (${upstream})` : ""}. Retrying every ${view.config.refresh_seconds} s.`;
    }
    return `Could not load latencies: ${err.message} (HTTP ${err.status}).`;
  }

  function showBanner(kind, text) {
    const banner = document.getElementById("banner");
    banner.dataset.kind = kind;
    banner.textContent = text;
    banner.hidden = false;
  }

  function hideBanner() {
    const banner = document.getElementById("banner");
    banner.hidden = true;
    banner.textContent = "";
    delete banner.dataset.kind;
  }

  function showRefreshed(ok) {
    const now = clock(new Date());
    const every = `refreshes every ${view.config.refresh_seconds} s`;
    const text = ok
      ? `Last refresh ${now} · ${every}`
      : `Last attempt ${now} failed${view.lastGood ? ` · last good data ${clock(view.lastGood)}` : ""} · ${every}`;
    document.getElementById("refreshed").textContent = text;
  }

  function applySummary(summary) {
    renderTable(summary, view.config);
    const table = document.getElementById("models");
    table.classList.toggle("stale", Boolean(summary.stale));
    if (summary.stale) {
      showBanner("stale", `Prometheus is unreachable; showing the last good answer from ${clock(new Date(summary.last_updated))}.`);
    } else {
      hideBanner();
      view.lastGood = new Date();
    }
  }

  async function refresh() {
    let ok = true;
    try {
      view.config = view.config || (await loadConfig());
      const [summary, series] = await Promise.allSettled([loadSummary(), loadSeries()]);
      if (series.status === "fulfilled") {
        view.series = series.value;
        renderChart(series.value, view.config);
      } else if (!view.series) {
        renderChartError(series.reason);
      }
      if (summary.status === "rejected") throw summary.reason;
      view.summary = summary.value;
      applySummary(summary.value);
    } catch (err) {
      ok = false;
      view.config = view.config || { ...DEFAULT_CONFIG };
      // Keep the last numbers on screen, dimmed; the banner says why they are old.
      document.getElementById("models").classList.add("stale");
      document.getElementById("empty").hidden = true;
      showBanner(err.status >= 502 && err.status <= 504 ? "unreachable" : "error", describeFailure(err));
    }
    showRefreshed(ok);
    view.refreshes += 1;
    document.body.dataset.refreshes = String(view.refreshes);
  }

  async function loop() {
    clearTimeout(view.timer);
    await refresh();
    view.timer = setTimeout(loop, view.config.refresh_seconds * 1000);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => view.series && renderChart(view.series, view.config), 150);
  });

  // Tests and curious people can refresh now from the console: statusPage.refresh().
  window.statusPage = { refresh: loop };
  loop();
})();
