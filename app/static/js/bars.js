// The latency distribution as a bar chart: one bar per histogram bucket (its share of the
// requests), the p50, p95 and p99 marked where they fall inside their bucket. Focus the
// chart and use the arrow keys (or point at a bar) to read a bucket.

import { element, formatMs, formatRate, svg } from "./format.js";

function bucketName(bucket) {
  if (bucket.le_ms === null) return `above ${formatMs(bucket.lower_ms)}`;
  return `${formatMs(bucket.lower_ms ?? 0)} to ${formatMs(bucket.le_ms)}`;
}

// Where `value` (ms) falls: inside the bucket that holds it, linearly.
function markAt(value, buckets, x, width) {
  const index = buckets.findIndex((b) => b.le_ms === null || value <= b.le_ms);
  if (index < 0) return null;
  const bucket = buckets[index];
  const lower = bucket.lower_ms ?? 0;
  const inside = bucket.le_ms === null || bucket.le_ms === lower ? 0.5 : (value - lower) / (bucket.le_ms - lower);
  return x(index) + Math.min(1, Math.max(0, inside)) * width;
}

export class BarChart {
  constructor(figure, { label }) {
    this.label = label;
    this.plot = element("div", { class: "chart bars", tabindex: "0", role: "group", "aria-label": `${label}. Use the arrow keys to read each bucket.` });
    this.readout = element("p", { class: "readout", role: "status", "aria-live": "polite" });
    figure.append(this.plot, this.readout);
    this.buckets = [];
    this.selected = null;
    this.plot.addEventListener("keydown", (event) => this.onKey(event));
    this.plot.addEventListener("focus", () => this.selected === null && this.select(0));
  }

  draw(buckets, marks) {
    this.buckets = buckets;
    const width = Math.max(260, Math.round(this.plot.clientWidth || 600));
    const height = width < 480 ? 180 : 220;
    const box = { left: 48, right: width - 8, top: 16, bottom: height - 30 };
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": this.label, "data-buckets": buckets.length });
    const slot = (box.right - box.left) / Math.max(1, buckets.length);
    const barWidth = Math.max(1, slot * 0.8);
    const x = (i) => box.left + i * slot + (slot - barWidth) / 2;
    const top = Math.max(...buckets.map((b) => b.share || 0), 0.01);
    const y = (share) => box.bottom - (share / top) * (box.bottom - box.top);
    root.append(svg("line", { class: "grid", x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom }));
    root.append(svg("text", { class: "axis-label", x: box.left - 6, y: box.top + 4, "text-anchor": "end" }, `${Math.round(top * 100)}%`));
    buckets.forEach((bucket, i) => {
      const share = bucket.share || 0;
      const bar = svg("rect", { class: "bar", x: x(i), y: y(share), width: barWidth, height: Math.max(0, box.bottom - y(share)), "data-index": i, "data-share": bucket.share ?? "" });
      bar.append(svg("title", {}, `${bucketName(bucket)}: ${((bucket.share || 0) * 100).toFixed(1)} %`));
      bar.addEventListener("pointerenter", () => this.select(i));
      root.append(bar);
    });
    if (buckets.length) {
      const first = buckets[0].lower_ms ?? 0;
      const last = buckets[buckets.length - 1].le_ms ?? buckets[buckets.length - 1].lower_ms;
      root.append(svg("text", { class: "tick-x", x: box.left, y: box.bottom + 16 }, formatMs(first)));
      root.append(svg("text", { class: "tick-x", x: box.right, y: box.bottom + 16, "text-anchor": "end" }, formatMs(last)));
    }
    for (const [name, value] of Object.entries(marks)) {
      if (value === null || value === undefined) continue;
      const at = markAt(value, buckets, x, barWidth);
      if (at === null) continue;
      const mark = svg("g", { class: `mark mark-${name}`, "data-mark": name, "data-value": value });
      mark.append(svg("line", { x1: at, x2: at, y1: box.top, y2: box.bottom }));
      mark.append(svg("text", { x: at, y: box.top - 4, "text-anchor": "middle" }, name));
      mark.append(svg("title", {}, `${name}: ${formatMs(value)}`));
      root.append(mark);
    }
    if (!buckets.length) root.append(svg("text", { class: "message", x: width / 2, y: height / 2, "text-anchor": "middle" }, "No requests in the window."));
    this.plot.replaceChildren(root);
    if (this.selected !== null) this.select(Math.min(this.selected, buckets.length - 1));
  }

  select(index) {
    if (index < 0 || index >= this.buckets.length) return;
    this.selected = index;
    for (const bar of this.plot.querySelectorAll("rect.bar")) bar.classList.toggle("selected", Number(bar.dataset.index) === index);
    const bucket = this.buckets[index];
    const share = bucket.share === null ? "—" : `${(bucket.share * 100).toFixed(1)} %`;
    this.readout.textContent = `${bucketName(bucket)}: ${share} of requests (${formatRate(bucket.per_second)})`;
  }

  onKey(event) {
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1 };
    const last = this.buckets.length - 1;
    let next = null;
    if (event.key in moves) next = Math.min(last, Math.max(0, (this.selected ?? 0) + moves[event.key]));
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = last;
    if (next === null) return;
    event.preventDefault();
    this.select(next);
  }
}
