// Status page of Model Latency API: reads the service's own JSON endpoints and nothing else.
//
// Optional query parameters of the page, passed on to the API:
//   time=<unix seconds or RFC 3339>  evaluate at that moment instead of now (chart ends there)
//   time_range=5m                    rate window of the percentiles
//   model=a&model=b                  only these models
//   refresh=30                       seconds between refreshes (default from the server)
//   window=6h                        the chart's window: 15m, 1h (default), 6h or 24h
"use strict";

(() => {
  // The chart's windows: the range query's duration and step (60 to 96 points each), the
  // distance between time ticks, and how the title names it.
  const WINDOWS = {
    "15m": { seconds: 900, step: "15s", stepSeconds: 15, tickSeconds: 300, name: "15 minutes" },
    "1h": { seconds: 3600, step: "1m", stepSeconds: 60, tickSeconds: 900, name: "hour" },
    "6h": { seconds: 21600, step: "5m", stepSeconds: 300, tickSeconds: 3600, name: "6 hours" },
    "24h": { seconds: 86400, step: "15m", stepSeconds: 900, tickSeconds: 3 * 3600, name: "24 hours" },
  };
  const DEFAULT_WINDOW = "1h";
  const DEFAULT_CONFIG = { warning_ms: 100, danger_ms: 200, refresh_seconds: 15 };
  const PALETTE = ["#0969da", "#8250df", "#bf3989", "#1b7c83", "#bc4c00", "#4d2d00", "#116329", "#953800", "#6639ba", "#0550ae"];
  const STATE_LABELS = { good: "Good", warning: "Warning", danger: "Danger", nodata: "No traffic" };
  const SVG_NS = "http://www.w3.org/2000/svg";

  const pageParams = new URLSearchParams(window.location.search);
  const view = {
    config: null,
    summary: null,
    series: null,
    timer: null,
    refreshes: 0,
    lastGood: null,
    window: WINDOWS[pageParams.get("window")] ? pageParams.get("window") : DEFAULT_WINDOW,
    chart: null, // what the drawn chart needs to place the cursor: scale, grid, series
    cursor: null, // timestamp under the pointer or keyboard cursor, or null
  };

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

  async function loadSeries(windowKey) {
    const { step } = WINDOWS[windowKey];
    const extra = { duration: windowKey, step, end: pageParams.get("time") };
    const range = await getJson(apiUrl("api/metrics/p95/range/", extra));
    return { ...range, window: windowKey };
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

  function hourMinute(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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

  // Break the line where Prometheus had no answer (a null, or no point at all for more
  // than a step); a lone point draws as a dot (round cap).
  function pathData(points, x, y, step) {
    const parts = [];
    let drawing = false;
    let previous = -Infinity;
    for (const point of points) {
      if (point.p95_latency_ms === null) {
        drawing = false;
        continue;
      }
      if (point.timestamp - previous > step * 1.5) drawing = false;
      previous = point.timestamp;
      const px = x(point.timestamp).toFixed(1);
      const py = y(point.p95_latency_ms).toFixed(1);
      parts.push(drawing ? `L${px} ${py}` : `M${px} ${py} l0 0`);
      drawing = true;
    }
    return parts.join(" ");
  }

  function chartFrame(width, height, range, box) {
    return svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `p95 latency per model over the last ${WINDOWS[range.window].name}`,
      "data-window": range.window,
      "data-start": range.start,
      "data-end": range.end,
      "data-plot-left": box.left,
      "data-plot-right": box.right,
    });
  }

  // Time ticks every `every` seconds on the local clock (a 3-hour tick falls on 00:00,
  // 03:00, ... wherever the page is read), none so close to an edge that labels collide.
  function timeTicks(start, end, every) {
    const offset = -new Date(start * 1000).getTimezoneOffset() * 60;
    const ticks = [];
    for (let t = Math.ceil((start + offset) / every) * every - offset; t <= end; t += every) ticks.push(t);
    return ticks;
  }

  function drawAxes(root, box, x, y, ticks, range) {
    const axis = svg("g", { class: "axis" });
    for (const value of ticks) {
      axis.append(svg("line", { class: "grid", x1: box.left, x2: box.right, y1: y(value), y2: y(value) }));
      axis.append(svg("text", { x: box.left - 6, y: y(value) + 4, "text-anchor": "end" }, `${value} ms`));
    }
    for (const t of timeTicks(range.start, range.end, WINDOWS[range.window].tickSeconds)) {
      axis.append(svg("line", { class: "tick", x1: x(t), x2: x(t), y1: box.bottom, y2: box.bottom + 4 }));
      const label = svg("text", { class: "tick-x", x: x(t), y: box.bottom + 16, "text-anchor": "middle" }, hourMinute(t));
      label.dataset.t = String(t);
      axis.append(label);
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
    const root = chartFrame(width, height, range, box);
    const values = range.data.flatMap((s) => s.data_points.map((p) => p.p95_latency_ms)).filter((v) => v !== null);
    const top = Math.max(...values, config.warning_ms) * 1.1;
    const ticks = yTicks(top);
    const max = ticks[ticks.length - 1];
    const span = Math.max(1, range.end - range.start);
    const x = (t) => box.left + ((t - range.start) / span) * (box.right - box.left);
    const y = (v) => box.bottom - (v / max) * (box.bottom - box.top);
    drawAxes(root, box, x, y, ticks, range);
    drawThresholds(root, box, y, config, max);
    range.data.forEach((item, index) => {
      const points = item.data_points.filter((p) => p.p95_latency_ms !== null).length;
      if (!points) return;
      const path = svg("path", {
        class: "series",
        d: pathData(item.data_points, x, y, WINDOWS[range.window].stepSeconds),
        stroke: PALETTE[index % PALETTE.length],
        "data-model": item.model,
        "data-points": points,
      });
      path.append(svg("title", {}, item.model));
      root.append(path);
    });
    if (!values.length) {
      const text = `No data in the last ${WINDOWS[range.window].name} yet.`;
      root.append(svg("text", { class: "message", x: width / 2, y: height / 2, "text-anchor": "middle" }, text));
    }
    const cursor = svg("g", { class: "cursor", visibility: "hidden" });
    root.append(cursor);
    container.replaceChildren(root);
    renderLegend(range.data);
    view.chart = { root, cursor, box, x, y, range, grid: timeGrid(range) };
    if (view.cursor !== null) showCursor(nearestIndex(view.cursor));
  }

  // ---- chart cursor: the value of every model at one moment, by pointer or keyboard ----------

  // Every step of the range, whether or not a series has a point there (Prometheus leaves
  // out the moments before a series existed), plus any point off that grid.
  function timeGrid(range) {
    const stamps = new Set(range.data.flatMap((s) => s.data_points.map((p) => p.timestamp)));
    const step = WINDOWS[range.window].stepSeconds;
    for (let t = range.start; t <= range.end; t += step) stamps.add(t);
    return [...stamps].sort((a, b) => a - b);
  }

  function nearestIndex(timestamp) {
    const grid = view.chart ? view.chart.grid : [];
    let best = -1;
    grid.forEach((t, i) => {
      if (best < 0 || Math.abs(t - timestamp) < Math.abs(grid[best] - timestamp)) best = i;
    });
    return best;
  }

  function valueAt(series, timestamp) {
    const point = series.data_points.find((p) => p.timestamp === timestamp);
    return point ? point.p95_latency_ms : null;
  }

  function drawCursor(chart, timestamp) {
    const { cursor, box, x, y, range } = chart;
    const px = x(timestamp);
    const marks = [svg("line", { class: "cursor-line", x1: px, x2: px, y1: box.top, y2: box.bottom })];
    range.data.forEach((item, index) => {
      const value = valueAt(item, timestamp);
      if (value === null) return;
      const dot = svg("circle", { class: "cursor-dot", cx: px, cy: y(value), r: 3.5, fill: PALETTE[index % PALETTE.length] });
      marks.push(dot);
    });
    cursor.replaceChildren(...marks);
    cursor.setAttribute("visibility", "visible");
  }

  function fillTip(chart, timestamp) {
    const tip = document.getElementById("chart-tip");
    const rows = chart.range.data.map((item, index) => {
      const value = valueAt(item, timestamp);
      const row = element("li", { "data-model": item.model, "data-value": value === null ? "" : String(value) });
      const swatch = element("span", { class: "swatch" });
      swatch.style.background = PALETTE[index % PALETTE.length];
      row.append(swatch, element("span", { class: "name" }, item.model), element("span", { class: "value" }, formatMs(value)));
      return row;
    });
    const when = new Date(timestamp * 1000).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const list = element("ul");
    list.replaceChildren(...rows);
    tip.replaceChildren(element("p", { class: "when" }, when), list);
    tip.dataset.timestamp = String(timestamp);
    return tip;
  }

  // Beside the cursor line, on whichever side has more room; CSSOM, so the CSP allows it.
  function placeTip(chart, tip, timestamp) {
    const svgBox = chart.root.getBoundingClientRect();
    const wrap = tip.parentElement.getBoundingClientRect();
    const scale = svgBox.width / Number(chart.root.viewBox.baseVal.width || svgBox.width);
    const px = svgBox.left - wrap.left + chart.x(timestamp) * scale;
    const right = px < wrap.width / 2;
    tip.style.left = right ? `${Math.round(px + 12)}px` : "auto";
    tip.style.right = right ? "auto" : `${Math.round(wrap.width - px + 12)}px`;
    tip.style.top = `${Math.round(svgBox.top - wrap.top + chart.box.top * scale)}px`;
  }

  function showCursor(index) {
    const chart = view.chart;
    if (!chart || index < 0 || index >= chart.grid.length) return;
    const timestamp = chart.grid[index];
    view.cursor = timestamp;
    drawCursor(chart, timestamp);
    const tip = fillTip(chart, timestamp);
    tip.hidden = false;
    placeTip(chart, tip, timestamp);
  }

  function hideCursor() {
    view.cursor = null;
    document.getElementById("chart-tip").hidden = true;
    if (view.chart) view.chart.cursor.setAttribute("visibility", "hidden");
  }

  function pointerIndex(event) {
    const chart = view.chart;
    const matrix = chart && chart.root.getScreenCTM();
    if (!matrix || !chart.grid.length) return -1;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const { box, range } = chart;
    const fraction = Math.min(1, Math.max(0, (point.x - box.left) / (box.right - box.left)));
    return nearestIndex(range.start + fraction * (range.end - range.start));
  }

  const KEY_MOVES = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1, PageDown: -10, PageUp: 10 };

  function onChartKey(event) {
    const chart = view.chart;
    if (!chart || !chart.grid.length) return;
    const last = chart.grid.length - 1;
    const current = view.cursor === null ? last : nearestIndex(view.cursor);
    let next = null;
    if (event.key in KEY_MOVES) next = Math.min(last, Math.max(0, current + KEY_MOVES[event.key]));
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = last;
    else if (event.key === "Escape") {
      hideCursor();
      event.preventDefault();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    showCursor(next);
  }

  function wireChart() {
    const container = document.getElementById("chart");
    container.addEventListener("pointermove", (event) => showCursor(pointerIndex(event)));
    // A click focuses the chart too; only a keyboard user's cursor outlives the pointer.
    container.addEventListener("pointerleave", () => !container.matches(":focus-visible") && hideCursor());
    container.addEventListener("keydown", onChartKey);
    container.addEventListener("focus", () => view.chart && view.cursor === null && showCursor(view.chart.grid.length - 1));
    container.addEventListener("blur", hideCursor);
  }

  // ---- window selector --------------------------------------------------------------------

  function showWindowChoice() {
    for (const input of document.querySelectorAll('input[name="window"]')) input.checked = input.value === view.window;
    document.getElementById("chart-title").textContent = `p95 over the last ${WINDOWS[view.window].name}`;
  }

  async function refreshChart() {
    const wanted = view.window;
    const chart = document.getElementById("chart");
    chart.setAttribute("aria-busy", "true");
    try {
      const range = await loadSeries(wanted);
      if (wanted !== view.window) return; // the reader picked another window meanwhile
      view.series = range;
      renderChart(range, view.config);
    } catch (err) {
      if (wanted === view.window && (!view.series || view.series.window !== wanted)) renderChartError(err);
      throw err;
    } finally {
      if (wanted === view.window) chart.removeAttribute("aria-busy");
    }
  }

  function chooseWindow(key) {
    if (!WINDOWS[key] || key === view.window) return;
    view.window = key;
    view.cursor = null;
    showWindowChoice();
    const url = new URL(window.location.href);
    url.searchParams.set("window", key);
    window.history.replaceState(null, "", url);
    if (view.config) refreshChart().catch(() => {}); // the next refresh reports the failure
  }

  function wireWindowPicker() {
    for (const input of document.querySelectorAll('input[name="window"]')) {
      input.addEventListener("change", () => input.checked && chooseWindow(input.value));
    }
    showWindowChoice();
  }

  function renderChartError(err) {
    const container = document.getElementById("chart");
    const message = element("p", { class: "empty" }, `Chart unavailable: ${err.message}.`);
    container.replaceChildren(message);
    view.chart = null;
    hideCursor();
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

  function showFailure(err) {
    // Keep the last numbers on screen, dimmed; the banner says why they are old.
    document.getElementById("models").classList.add("stale");
    document.getElementById("empty").hidden = true;
    showBanner(err.status >= 502 && err.status <= 504 ? "unreachable" : "error", describeFailure(err));
  }

  function counted(ok) {
    showRefreshed(ok);
    view.refreshes += 1;
    document.body.dataset.refreshes = String(view.refreshes);
  }

  async function refresh() {
    let ok = true;
    try {
      view.config = view.config || (await loadConfig());
      // While the live stream feeds the table, only the chart is fetched here.
      const table = view.stream ? Promise.resolve(null) : loadSummary();
      const [summary] = await Promise.allSettled([table, refreshChart()]);
      if (summary.status === "rejected") throw summary.reason;
      if (summary.value) {
        view.summary = summary.value;
        applySummary(summary.value);
      }
    } catch (err) {
      ok = false;
      view.config = view.config || { ...DEFAULT_CONFIG };
      showFailure(err);
    }
    if (!view.stream) counted(ok);
  }

  async function loop() {
    clearTimeout(view.timer);
    await refresh();
    if (view.stream === undefined) openStream();
    view.timer = setTimeout(loop, view.config.refresh_seconds * 1000);
  }

  // ---- live stream ------------------------------------------------------------------------

  // The stream's update is the /percentiles/ answer; the table speaks the summary's shape.
  function fromPercentiles(answer) {
    const first = answer.data[0];
    const at = first ? first.timestamp * 1000 : Date.now();
    const data = answer.data.map((item) => ({
      model: item.model,
      p50_latency_ms: item.percentiles.p50,
      p95_latency_ms: item.percentiles.p95,
      p99_latency_ms: item.percentiles.p99,
    }));
    return { ...answer, data, last_updated: new Date(at).toISOString() };
  }

  // Subscribe to GET api/metrics/stream/ when the browser can and the page shows "now";
  // if the stream cannot be opened (or is refused), the table is polled as before.
  function openStream() {
    view.stream = null;
    document.body.dataset.mode = "polling";
    if (typeof window.EventSource !== "function" || pageParams.get("time")) return;
    const extra = { percentiles: "50,95,99", interval: view.config.refresh_seconds };
    const source = new EventSource(apiUrl("api/metrics/stream/", extra));
    view.stream = source;
    document.body.dataset.mode = "stream";
    let failures = 0;
    source.addEventListener("percentiles", (message) => {
      failures = 0;
      const summary = fromPercentiles(JSON.parse(message.data));
      view.summary = summary;
      applySummary(summary);
      counted(true);
    });
    source.addEventListener("error", (message) => {
      if (message.data) {
        const body = JSON.parse(message.data);
        showFailure(new ApiError(body.error || "Error", 503, body));
        counted(false);
      } else if (source.readyState === EventSource.CLOSED || ++failures >= 2) {
        source.close(); // refused, or failing again and again: poll from now on
        view.stream = null;
        document.body.dataset.mode = "polling";
        loop();
      }
    });
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => view.series && renderChart(view.series, view.config), 150);
  });

  // Tests and curious people can refresh now from the console: statusPage.refresh().
  window.statusPage = { refresh: loop };
  wireWindowPicker();
  wireChart();
  loop();
})();
