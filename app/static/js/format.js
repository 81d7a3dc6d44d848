// How numbers, times and changes are written on the page, and small DOM helpers.

const SVG_NS = "http://www.w3.org/2000/svg";

export function element(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const missing = (value) => value === null || value === undefined || Number.isNaN(value);

export function formatMs(value) {
  return missing(value) ? "—" : `${value.toFixed(1)} ms`;
}

export function formatRate(value) {
  return missing(value) ? "—" : `${value.toFixed(1)}/s`;
}

export function formatRatio(value) {
  return missing(value) ? "—" : `${(value * 100).toFixed(2)} %`;
}

export function formatCount(value) {
  return missing(value) ? "—" : Math.round(value).toLocaleString("en");
}

// A change in percent as an arrow: up, down, or level (within half a percent).
export function arrow(pct) {
  if (missing(pct)) return { symbol: "", text: "—", direction: "none" };
  const direction = pct > 0.5 ? "up" : pct < -0.5 ? "down" : "level";
  const symbol = { up: "▲", down: "▼", level: "▶" }[direction];
  const sign = pct > 0 ? "+" : "";
  return { symbol, text: `${sign}${pct.toFixed(1)} %`, direction };
}

export function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function hourMinute(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function moment(seconds) {
  return new Date(seconds * 1000).toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

// The p95 of a latency signal, or its mean where the exporter has only a sum and a count.
export function percentile(latency, key) {
  if (!latency) return null;
  const value = latency[key];
  return value === undefined ? (latency.mean ?? null) : value;
}

export const STATUS_LABELS = { good: "Good", warning: "Warning", danger: "Danger", idle: "Idle" };
