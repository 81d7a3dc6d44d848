// The overview at `/`: every model's row of `/api/models/?compare=1d` (latency, time to
// first token, throughput, success, status, the change since yesterday), sortable by any
// column and filtered by a text box; one request per refresh (or none: the stream).

import { Feed, pageParams } from "./api.js";
import { STATUS_LABELS, arrow, clock, element, formatMs, formatRate, formatRatio, percentile } from "./format.js";
import { answered, failed } from "./status-bar.js";
import { SortableTable } from "./table.js";

const STATUS_ORDER = { danger: 0, warning: 1, good: 2, idle: 3 };

// Each column; `signal` hides it when no source has that signal (`missing`).
const COLUMNS = [
  { key: "model", label: "Model", value: (r) => r.model, cell: modelLink },
  { key: "source", label: "Source", value: (r) => r.source, cell: (r) => r.source, several: true },
  { key: "status", label: "Status", value: (r) => STATUS_ORDER[r.status], cell: badge },
  { key: "p50", label: "p50", num: true, signal: "latency", value: (r) => percentile(r.latency_ms, "p50"), cell: (r) => formatMs(percentile(r.latency_ms, "p50")) },
  { key: "p95", label: "p95", num: true, signal: "latency", value: (r) => percentile(r.latency_ms, "p95"), cell: (r) => formatMs(percentile(r.latency_ms, "p95")) },
  { key: "ttft", label: "TTFT p95", num: true, signal: "ttft", value: (r) => percentile(r.ttft_ms, "p95"), cell: (r) => formatMs(percentile(r.ttft_ms, "p95")) },
  { key: "tokens", label: "Output tok/s", num: true, signal: "output_tokens_per_second", value: (r) => r.output_tokens_per_second, cell: (r) => formatRate(r.output_tokens_per_second) },
  { key: "success", label: "Success", num: true, signal: "success_ratio", value: (r) => r.success_ratio, cell: (r) => formatRatio(r.success_ratio) },
  { key: "change", label: "p95 vs 1 day ago", num: true, signal: "latency", value: changeOf, cell: changeCell },
];

function changeOf(row) {
  const change = row.change_pct && row.change_pct.latency_ms;
  return change ? percentile(change, "p95") : null;
}

// Carry the page's own parameters (pinned time, rate window, refresh) to the model page.
export function modelHref(model, source) {
  const params = new URLSearchParams({ model });
  if (source) params.set("source", source);
  for (const name of ["time", "time_range", "refresh"]) {
    if (pageParams.get(name)) params.set(name, pageParams.get(name));
  }
  return `models/?${params}`;
}

function modelLink(row) {
  return element("a", { href: modelHref(row.model, row.source) }, row.model);
}

function badge(row) {
  return element("span", { class: `badge badge-${row.status}` }, STATUS_LABELS[row.status] || row.status);
}

function changeCell(row) {
  const { symbol, text, direction } = arrow(changeOf(row));
  const cell = element("span", { class: `change change-${direction}`, "data-change": changeOf(row) ?? "" });
  if (symbol) cell.append(element("span", { class: "arrow", "aria-hidden": "true" }, symbol));
  cell.append(document.createTextNode(` ${text}`));
  if (direction !== "none") cell.setAttribute("title", `p95 ${direction === "up" ? "slower" : direction === "down" ? "faster" : "unchanged"} than a day before`);
  return cell;
}

export function columnsFor(answer) {
  const missing = new Set(answer.missing || []);
  const sources = new Set(answer.data.map((r) => r.source));
  const compared = answer.data.some((r) => r.change_pct);
  return COLUMNS.filter((c) => {
    if (c.signal && missing.has(c.signal)) return false;
    if (c.key === "change" && !compared) return false;
    return !c.several || sources.size > 1;
  });
}

export class Overview {
  constructor(config) {
    this.config = config;
    this.main = document.getElementById("overview");
    this.tableEl = document.getElementById("models");
    this.table = new SortableTable(this.tableEl, { sortKey: "model" });
    this.filterBox = document.getElementById("filter");
    this.timings = { render: [], filter: [] };
  }

  start() {
    this.main.hidden = false;
    document.title = "Model status";
    this.filterBox.value = pageParams.get("q") || "";
    this.filterBox.addEventListener("input", (event) => this.onFilter(event));
    const params = {
      compare: "1d",
      window: pageParams.get("time_range"),
      model: pageParams.getAll("model"),
      profile: pageParams.get("profile"),
      time: pageParams.get("time"),
    };
    this.feed = new Feed({
      path: "api/models/",
      streamPath: "api/models/stream/",
      event: "models",
      params,
      seconds: this.config.refresh_seconds,
      pinned: Boolean(pageParams.get("time")),
      onAnswer: (answer) => this.show(answer),
      onError: (err) => failed(err, (on) => this.dim(on)),
    });
    this.feed.start();
  }

  dim(on) {
    this.tableEl.classList.toggle("stale", on);
    if (on) document.getElementById("empty").hidden = true;
  }

  show(answer) {
    const began = performance.now();
    this.table.setColumns(columnsFor(answer));
    this.table.setRows(answer.data, {
      id: (r) => `${r.source}/${r.model}`,
      text: (r) => `${r.model} ${r.source}`,
      attrs: (r) => ({ "data-model": r.model, "data-source": r.source, "data-state": r.status }),
    });
    this.count(this.table.filter(this.filterBox.value));
    document.getElementById("empty").hidden = answer.data.length > 0;
    const at = answer.last_updated ? clock(new Date(answer.last_updated)) : "";
    const window = pageParams.get("time_range") || "5m";
    document.getElementById("window").textContent = `(rates over ${window}${at ? `, at ${at}` : ""})`;
    document.getElementById("key").textContent =
      `Status from the p95 latency: below ${this.config.warning_ms} ms is good, below ${this.config.danger_ms} ms a warning, otherwise danger; idle without requests.`;
    answered(answer, (on) => this.dim(on));
    void this.tableEl.offsetHeight; // the layout of the new rows, in the figure
    this.timings.render.push(performance.now() - began);
  }

  count(shown) {
    const total = this.table.rows.length;
    document.getElementById("shown").textContent = shown === total ? `${total} rows` : `${shown} of ${total} rows`;
  }

  onFilter(event) {
    this.count(this.table.filter(this.filterBox.value));
    void this.tableEl.offsetHeight; // the layout the keystroke causes, in the figure
    this.timings.filter.push(performance.now() - event.timeStamp);
  }

  refresh() {
    return this.feed.refresh();
  }
}
