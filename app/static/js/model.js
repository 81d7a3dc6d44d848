// A model's page, `/models/?model=<name>&source=<profile>`: its scorecard (live), a chart
// per signal over the chosen window (`/api/models/range/`), the SLO attainment against a
// threshold and objective the viewer can change (`/api/metrics/slo/`) and the latency
// distribution with p50/p95/p99 marked (`/api/metrics/distribution/`).

import { Feed, apiUrl, getJson, pageParams } from "./api.js";
import { BarChart } from "./bars.js";
import { LineChart, PALETTE } from "./chart.js";
import { STATUS_LABELS, arrow, element, formatMs, formatRate, formatRatio, percentile } from "./format.js";
import { answered, failed } from "./status-bar.js";
import { SloPanel } from "./slo.js";

// The windows: the range's duration and step (60 to 96 points), the distance between ticks.
export const WINDOWS = {
  "15m": { step: "15s", stepSeconds: 15, tickSeconds: 300, name: "15 minutes" },
  "1h": { step: "1m", stepSeconds: 60, tickSeconds: 900, name: "hour" },
  "6h": { step: "5m", stepSeconds: 300, tickSeconds: 3600, name: "6 hours" },
  "24h": { step: "15m", stepSeconds: 900, tickSeconds: 3 * 3600, name: "24 hours" },
  "7d": { step: "2h", stepSeconds: 7200, tickSeconds: 86400, name: "7 days" },
};
const DEFAULT_WINDOW = "1h";
const ms = { tick: (v) => `${v} ms`, format: formatMs };
const rate = { tick: (v) => `${v}/s`, format: formatRate };
const SIGNALS = [
  { signal: "latency_p95", label: "Latency p95", ...ms, thresholds: true },
  { signal: "ttft_p95", label: "Time to first token p95", ...ms },
  { signal: "output_tokens_per_second", label: "Output tokens per second", ...rate },
  { signal: "requests_per_second", label: "Requests per second", ...rate },
  { signal: "success_ratio", label: "Success ratio", tick: (v) => `${Math.round(v * 100)}%`, format: formatRatio, floor: 1 },
];
// The scorecard's figures: [label, value of a row (or of its change_pct), format, signal].
const CARDS = [
  ["Latency p50", (r) => percentile(r.latency_ms, "p50"), formatMs, "latency"],
  ["Latency p95", (r) => percentile(r.latency_ms, "p95"), formatMs, "latency"],
  ["Latency p99", (r) => percentile(r.latency_ms, "p99"), formatMs, "latency"],
  ["TTFT p95", (r) => percentile(r.ttft_ms, "p95"), formatMs, "ttft"],
  ["Inter-token p95", (r) => percentile(r.inter_token_latency_ms, "p95"), formatMs, "inter_token_latency"],
  ["Queue p95", (r) => percentile(r.queue_ms, "p95"), formatMs, "queue"],
  ["Requests/s", (r) => r.requests_per_second, formatRate, "requests_per_second"],
  ["Output tokens/s", (r) => r.output_tokens_per_second, formatRate, "output_tokens_per_second"],
  ["Success", (r) => r.success_ratio, formatRatio, "success_ratio"],
];

export class ModelPage {
  constructor(config) {
    this.config = config;
    this.model = pageParams.get("model") || "";
    this.source = pageParams.get("source");
    this.window = WINDOWS[pageParams.get("window")] ? pageParams.get("window") : DEFAULT_WINDOW;
    this.main = document.getElementById("model-view");
    this.charts = new Map();
    this.row = null;
    this.timer = null;
  }

  start() {
    this.main.hidden = false;
    document.getElementById("model-title").textContent = this.model;
    document.title = `${this.model} · Model status`;
    const back = document.getElementById("back");
    const keep = new URLSearchParams();
    for (const name of ["time", "time_range", "refresh"]) if (pageParams.get(name)) keep.set(name, pageParams.get(name));
    back.href = `./${keep.size ? `?${keep}` : ""}`;
    this.wireWindows();
    this.distribution = new BarChart(document.getElementById("distribution"), { label: `Latency distribution of ${this.model}` });
    this.slo = new SloPanel(this.config, () => this.histogram(), () => this.common());
    this.feed = new Feed({
      path: "api/models/",
      streamPath: "api/models/stream/",
      event: "models",
      params: { ...this.common(), compare: "1d", window: pageParams.get("time_range") },
      seconds: this.config.refresh_seconds,
      pinned: Boolean(pageParams.get("time")),
      onAnswer: (answer) => this.showCard(answer),
      onError: (err) => this.failed(err),
    });
    this.feed.start();
    this.details();
  }

  // What every request of the page names: the model, its source, the pinned time.
  common() {
    return { model: this.model, profile: this.source, time: pageParams.get("time") };
  }

  histogram() {
    return this.source ? this.config.latency_histograms[this.source] : null;
  }

  dim(on) {
    this.main.classList.toggle("stale", on);
  }

  // The last numbers stay, greyed; with none yet, each part says why it is empty.
  failed(err) {
    failed(err, (on) => this.dim(on));
    const why = `unavailable: ${err.message}.`;
    if (!this.charts.size) document.getElementById("charts").replaceChildren(element("p", { class: "empty" }, `Charts ${why}`));
    if (!this.row) document.getElementById("model-source").textContent = `Scorecard ${why}`;
  }

  wireWindows() {
    for (const input of document.querySelectorAll('input[name="window"]')) {
      input.checked = input.value === this.window;
      input.addEventListener("change", () => input.checked && this.chooseWindow(input.value));
    }
    this.showWindowName();
  }

  showWindowName() {
    document.getElementById("charts-title").textContent = `Over the last ${WINDOWS[this.window].name}`;
  }

  chooseWindow(key) {
    if (!WINDOWS[key] || key === this.window) return;
    this.window = key;
    this.showWindowName();
    const url = new URL(window.location.href);
    url.searchParams.set("window", key);
    window.history.replaceState(null, "", url);
    this.loadCharts().catch(() => {});
    this.slo.load(key).catch(() => {});
  }

  showCard(answer) {
    const rows = answer.data.filter((r) => r.model === this.model && (!this.source || r.source === this.source));
    const row = rows[0] || null;
    if (row && !this.source) {
      this.source = row.source; // the first source answering for this model
      this.details();
    }
    this.row = row;
    const missing = new Set(answer.missing || []);
    const cards = document.getElementById("scorecard");
    document.getElementById("model-source").textContent = row ? `from ${row.source}` : "no answer for this model";
    cards.replaceChildren(...(row ? [statusCard(row), ...CARDS.filter((c) => !missing.has(c[3])).map((c) => card(row, c))] : []));
    answered(answer, (on) => this.dim(on));
    this.drawDistribution();
  }

  // The charts, the SLO and the distribution, now and every refresh period.
  async details() {
    clearTimeout(this.timer);
    if (this.source) await Promise.allSettled([this.loadCharts(), this.slo.load(this.window), this.loadDistribution()]);
    if (!pageParams.get("time")) this.timer = setTimeout(() => this.details(), this.config.refresh_seconds * 1000);
  }

  async loadCharts() {
    const wanted = this.window;
    const { step } = WINDOWS[wanted];
    const params = { ...this.common(), signals: SIGNALS.map((s) => s.signal).join(), duration: wanted, step, window: pageParams.get("time_range"), end: pageParams.get("time") };
    delete params.time;
    const holder = document.getElementById("charts");
    holder.setAttribute("aria-busy", "true");
    try {
      const range = await getJson(apiUrl("api/models/range/", params));
      if (wanted === this.window) this.drawCharts(range, wanted);
    } catch (err) {
      if (!this.charts.size) holder.replaceChildren(element("p", { class: "empty" }, `Charts unavailable: ${err.message}.`));
      throw err;
    } finally {
      holder.removeAttribute("aria-busy");
    }
  }

  drawCharts(range, key) {
    const mine = range.data.filter((s) => s.model === this.model && s.source === this.source);
    if (!this.charts.size) this.makeCharts();
    SIGNALS.forEach((spec, index) => {
      const series = mine.filter((s) => s.signal === spec.signal);
      const chart = this.charts.get(spec.signal);
      chart.plot.closest("figure").hidden = !series.length;
      const lines = series.map((s) => ({ name: `${s.source} ${s.signal}`, color: PALETTE[index % PALETTE.length], points: s.data_points }));
      const w = WINDOWS[key];
      const thresholds = spec.thresholds ? [{ name: "warning", value: this.config.warning_ms }, { name: "danger", value: this.config.danger_ms }] : [];
      const floor = spec.thresholds ? this.config.warning_ms : spec.floor;
      chart.draw({ ...w, window: key, windowName: w.name, start: range.start, end: range.end, series: lines, floor, thresholds });
    });
  }

  // Every figure first, so each chart is drawn at its width in the grid.
  makeCharts() {
    const holder = document.getElementById("charts");
    holder.replaceChildren();
    const help = "Point at the chart, or focus it and use the arrow keys, to read its values.";
    for (const spec of SIGNALS) {
      const figure = element("figure", { class: "signal", "data-signal": spec.signal });
      figure.append(element("figcaption", {}, spec.label));
      holder.append(figure);
      this.charts.set(spec.signal, new LineChart(figure, { label: spec.label, tick: spec.tick, format: spec.format, help }));
    }
  }

  async loadDistribution() {
    const histogram = this.histogram();
    const note = document.getElementById("distribution-note");
    if (!histogram) {
      note.textContent = "This source has no latency histogram.";
      return;
    }
    const params = { ...histogram, model: this.model, time_range: pageParams.get("time_range"), time: pageParams.get("time") };
    try {
      const answer = await getJson(apiUrl("api/metrics/distribution/", params));
      this.buckets = (answer.data.find((d) => d.model === this.model) || { buckets: [] }).buckets;
      note.textContent = `${histogram.metric_name}, over ${answer.time_range}; p50, p95 and p99 from the scorecard.`;
      this.drawDistribution();
    } catch (err) {
      if (!this.buckets) note.textContent = `Distribution unavailable: ${err.message}.`;
      throw err;
    }
  }

  drawDistribution() {
    if (!this.buckets) return;
    const latency = (this.row && this.row.latency_ms) || {};
    this.distribution.draw(this.buckets, { p50: latency.p50, p95: latency.p95, p99: latency.p99 });
  }

  redraw() {
    for (const chart of this.charts.values()) chart.redraw();
    this.drawDistribution();
  }

  refresh() {
    return Promise.all([this.feed.refresh(), this.details()]);
  }
}

function statusCard(row) {
  const item = element("div", { class: "card", "data-card": "Status" });
  item.append(element("span", { class: "label" }, "Status"), element("span", { class: `badge badge-${row.status}` }, STATUS_LABELS[row.status] || row.status));
  return item;
}

function card(row, [label, value, format]) {
  const item = element("div", { class: "card", "data-card": label });
  const now = value(row);
  item.append(element("span", { class: "label" }, label), element("span", { class: "value", "data-value": now ?? "" }, format(now)));
  if (row.change_pct) {
    const { symbol, text, direction } = arrow(value(row.change_pct));
    const change = element("span", { class: `change change-${direction}`, title: "change since a day before" }, `${symbol} ${text} vs 1 day ago`);
    item.append(change);
  }
  return item;
}
