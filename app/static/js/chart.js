// A line chart in hand-written SVG: one line per series over a time window, with a
// cursor that reads every series' value at one moment by pointer or keyboard (arrow
// keys, Home, End, Page Up, Page Down, Escape). No library: the page stays small, works
// offline and keeps the values readable on hover and focus.
//
//   const chart = new LineChart(figure, { label: "p95 latency", tick: (v) => `${v} ms`, format: formatMs });
//   chart.draw({ start, end, stepSeconds, tickSeconds, window: "1h", series: [{ name, color, points }] });
//   (points: [{ timestamp, value }], value null where there is no answer; optional
//   `thresholds: [{ name, value }]` drawn as dashed lines, `floor`: the least top of the scale)

import { element, hourMinute, moment, svg } from "./format.js";

export const PALETTE = ["#0969da", "#8250df", "#bf3989", "#1b7c83", "#bc4c00", "#4d2d00", "#116329", "#953800", "#6639ba", "#0550ae"];

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const factor = [1, 2, 2.5, 5, 10].find((f) => f * power >= raw);
  return factor * power;
}

function yTicks(max) {
  const step = niceStep(max, 4);
  const ticks = [];
  for (let value = 0; value <= max + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

// Break the line where there was no answer (a null, or no point for more than a step);
// a lone point draws as a dot (round cap).
function pathData(points, x, y, step) {
  const parts = [];
  let drawing = false;
  let previous = -Infinity;
  for (const point of points) {
    if (point.value === null) {
      drawing = false;
      continue;
    }
    if (point.timestamp - previous > step * 1.5) drawing = false;
    previous = point.timestamp;
    const px = x(point.timestamp).toFixed(1);
    const py = y(point.value).toFixed(1);
    parts.push(drawing ? `L${px} ${py}` : `M${px} ${py} l0 0`);
    drawing = true;
  }
  return parts.join(" ");
}

// Time ticks every `every` seconds on the local clock, whatever the time zone.
function timeTicks(start, end, every) {
  const offset = -new Date(start * 1000).getTimezoneOffset() * 60;
  const ticks = [];
  for (let t = Math.ceil((start + offset) / every) * every - offset; t <= end; t += every) ticks.push(t);
  return ticks;
}

function tickLabel(t, every) {
  if (every < 86400) return hourMinute(t);
  return new Date(t * 1000).toLocaleDateString([], { month: "short", day: "numeric" });
}

const KEY_MOVES = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1, PageDown: -10, PageUp: 10 };

export class LineChart {
  // `figure` gets the plot (focusable), a tip and a legend.
  constructor(figure, { label, tick, format, help }) {
    Object.assign(this, { label, tick, format });
    this.plot = element("div", { class: "chart", tabindex: "0", role: "group", "aria-label": `${label}. ${help}` });
    this.tip = element("div", { class: "chart-tip", role: "status", "aria-live": "polite", hidden: "" });
    const wrap = element("div", { class: "chart-wrap" });
    wrap.append(this.plot, this.tip);
    this.legend = element("ul", { class: "chart-legend" });
    figure.append(wrap, this.legend);
    this.drawn = null;
    this.cursor = null;
    this.data = null;
    this.wire();
  }

  draw(data) {
    this.data = data;
    const width = Math.max(260, Math.round(this.plot.clientWidth || 600));
    const height = width < 480 ? 180 : 220;
    const box = { left: 70, right: width - 12, top: 10, bottom: height - 26 };
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `${this.label} over the last ${data.windowName}`,
      "data-window": data.window,
      "data-start": data.start,
      "data-end": data.end,
      "data-plot-left": box.left,
      "data-plot-right": box.right,
    });
    const values = data.series.flatMap((s) => s.points.map((p) => p.value)).filter((v) => v !== null);
    const top = Math.max(...values, data.floor || 0, 1e-9) * 1.1;
    const ticks = yTicks(top);
    const max = ticks[ticks.length - 1];
    const span = Math.max(1, data.end - data.start);
    const x = (t) => box.left + ((t - data.start) / span) * (box.right - box.left);
    const y = (v) => box.bottom - (v / max) * (box.bottom - box.top);
    this.axes(root, box, x, y, ticks, data);
    for (const { name, value } of data.thresholds || []) {
      if (value > max) continue;
      root.append(svg("line", { class: `threshold threshold-${name}`, x1: box.left, x2: box.right, y1: y(value), y2: y(value) }));
    }
    for (const series of data.series) this.line(root, series, x, y, data.stepSeconds);
    if (!values.length) {
      const text = `No data in the last ${data.windowName}.`;
      root.append(svg("text", { class: "message", x: width / 2, y: height / 2, "text-anchor": "middle" }, text));
    }
    const cursor = svg("g", { class: "cursor", visibility: "hidden" });
    root.append(cursor);
    this.plot.replaceChildren(root);
    this.renderLegend(data.series);
    this.drawn = { root, cursor, box, x, y, grid: this.timeGrid(data) };
    if (this.cursor !== null) this.show(this.nearest(this.cursor));
  }

  axes(root, box, x, y, ticks, data) {
    const axis = svg("g", { class: "axis" });
    for (const value of ticks) {
      axis.append(svg("line", { class: "grid", x1: box.left, x2: box.right, y1: y(value), y2: y(value) }));
      axis.append(svg("text", { x: box.left - 6, y: y(value) + 4, "text-anchor": "end" }, this.tick(value)));
    }
    for (const t of timeTicks(data.start, data.end, data.tickSeconds)) {
      axis.append(svg("line", { class: "tick", x1: x(t), x2: x(t), y1: box.bottom, y2: box.bottom + 4 }));
      const text = svg("text", { class: "tick-x", x: x(t), y: box.bottom + 16, "text-anchor": "middle" }, tickLabel(t, data.tickSeconds));
      text.dataset.t = String(t);
      axis.append(text);
    }
    root.append(axis);
  }

  line(root, series, x, y, step) {
    const points = series.points.filter((p) => p.value !== null).length;
    if (!points) return;
    const path = svg("path", { class: "series", d: pathData(series.points, x, y, step), stroke: series.color, "data-series": series.name, "data-points": points });
    path.append(svg("title", {}, series.name));
    root.append(path);
  }

  renderLegend(series) {
    this.legend.replaceChildren(
      ...series.map((item) => {
        const entry = element("li", { "data-series": item.name });
        const swatch = element("span", { class: "swatch" });
        swatch.style.background = item.color;
        const points = item.points.filter((p) => p.value !== null).length;
        entry.append(swatch, document.createTextNode(points ? item.name : `${item.name} (no data)`));
        return entry;
      }),
    );
  }

  // Every step of the window, whether or not a series has a point there.
  timeGrid(data) {
    const stamps = new Set(data.series.flatMap((s) => s.points.map((p) => p.timestamp)));
    for (let t = data.start; t <= data.end; t += data.stepSeconds) stamps.add(t);
    return [...stamps].sort((a, b) => a - b);
  }

  nearest(timestamp) {
    const grid = this.drawn ? this.drawn.grid : [];
    let best = -1;
    grid.forEach((t, i) => {
      if (best < 0 || Math.abs(t - timestamp) < Math.abs(grid[best] - timestamp)) best = i;
    });
    return best;
  }

  valueAt(series, timestamp) {
    const point = series.points.find((p) => p.timestamp === timestamp);
    return point ? point.value : null;
  }

  show(index) {
    const drawn = this.drawn;
    if (!drawn || index < 0 || index >= drawn.grid.length) return;
    const timestamp = drawn.grid[index];
    this.cursor = timestamp;
    const px = drawn.x(timestamp);
    const marks = [svg("line", { class: "cursor-line", x1: px, x2: px, y1: drawn.box.top, y2: drawn.box.bottom })];
    const rows = this.data.series.map((series) => {
      const value = this.valueAt(series, timestamp);
      if (value !== null) marks.push(svg("circle", { class: "cursor-dot", cx: px, cy: drawn.y(value), r: 3.5, fill: series.color }));
      const row = element("li", { "data-series": series.name, "data-value": value === null ? "" : String(value) });
      const swatch = element("span", { class: "swatch" });
      swatch.style.background = series.color;
      row.append(swatch, element("span", { class: "name" }, series.name), element("span", { class: "value" }, this.format(value)));
      return row;
    });
    drawn.cursor.replaceChildren(...marks);
    drawn.cursor.setAttribute("visibility", "visible");
    const list = element("ul");
    list.replaceChildren(...rows);
    this.tip.replaceChildren(element("p", { class: "when" }, moment(timestamp)), list);
    this.tip.dataset.timestamp = String(timestamp);
    this.tip.hidden = false;
    this.place(px);
  }

  // Beside the cursor line, on whichever side has more room (CSSOM, which the CSP allows).
  place(px) {
    const root = this.drawn.root;
    const box = root.getBoundingClientRect();
    const wrap = this.tip.parentElement.getBoundingClientRect();
    const scale = box.width / Number(root.viewBox.baseVal.width || box.width);
    const at = box.left - wrap.left + px * scale;
    const right = at < wrap.width / 2;
    this.tip.style.left = right ? `${Math.round(at + 12)}px` : "auto";
    this.tip.style.right = right ? "auto" : `${Math.round(wrap.width - at + 12)}px`;
    this.tip.style.top = `${Math.round(box.top - wrap.top + this.drawn.box.top * scale)}px`;
  }

  hide() {
    this.cursor = null;
    this.tip.hidden = true;
    if (this.drawn) this.drawn.cursor.setAttribute("visibility", "hidden");
  }

  pointerIndex(event) {
    const drawn = this.drawn;
    const matrix = drawn && drawn.root.getScreenCTM();
    if (!matrix || !drawn.grid.length) return -1;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const { box } = drawn;
    const fraction = Math.min(1, Math.max(0, (point.x - box.left) / (box.right - box.left)));
    return this.nearest(this.data.start + fraction * (this.data.end - this.data.start));
  }

  onKey(event) {
    if (!this.drawn || !this.drawn.grid.length) return;
    const last = this.drawn.grid.length - 1;
    const current = this.cursor === null ? last : this.nearest(this.cursor);
    let next = null;
    if (event.key in KEY_MOVES) next = Math.min(last, Math.max(0, current + KEY_MOVES[event.key]));
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = last;
    else if (event.key === "Escape") {
      this.hide();
      event.preventDefault();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    this.show(next);
  }

  wire() {
    const plot = this.plot;
    plot.addEventListener("pointermove", (event) => this.show(this.pointerIndex(event)));
    // A click focuses the chart too; only a keyboard user's cursor outlives the pointer.
    plot.addEventListener("pointerleave", () => !plot.matches(":focus-visible") && this.hide());
    plot.addEventListener("keydown", (event) => this.onKey(event));
    plot.addEventListener("focus", () => this.drawn && this.cursor === null && this.show(this.drawn.grid.length - 1));
    plot.addEventListener("blur", () => this.hide());
  }

  redraw() {
    if (this.data) this.draw(this.data);
  }
}
