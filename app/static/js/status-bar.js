// What the page says about its data: when it was refreshed, and a banner when Prometheus
// is unreachable, the answer is the last good one (stale), or part of it is missing.

import { clock } from "./format.js";

const bar = { lastGood: null, refreshes: 0, seconds: 15 };

export function setPeriod(seconds) {
  bar.seconds = seconds;
}

function unreachable(err) {
  return err.status === 0 || (err.status >= 502 && err.status <= 504);
}

export function describeFailure(err) {
  const every = `Retrying every ${bar.seconds} s.`;
  if (err.status === 0) return `The service is not answering. ${every}`;
  if (unreachable(err)) {
    const upstream = err.body && err.body.details && err.body.details.upstream;
    const what = err.message.startsWith("Prometheus") ? err.message : `Prometheus is unreachable: ${err.message}`;
    return `${what}${upstream ? ` (${upstream})` : ""}. ${every}`;
  }
  return `Could not load the numbers: ${err.message} (HTTP ${err.status}).`;
}

export function showBanner(kind, text) {
  const banner = document.getElementById("banner");
  banner.dataset.kind = kind;
  banner.textContent = text;
  banner.hidden = false;
}

export function hideBanner() {
  const banner = document.getElementById("banner");
  banner.hidden = true;
  banner.textContent = "";
  delete banner.dataset.kind;
}

function showRefreshed(ok) {
  const now = clock(new Date());
  const every = `refreshes every ${bar.seconds} s`;
  const text = ok
    ? `Last refresh ${now} · ${every}`
    : `Last attempt ${now} failed${bar.lastGood ? ` · last good data ${clock(bar.lastGood)}` : ""} · ${every}`;
  document.getElementById("refreshed").textContent = text;
}

function counted(ok) {
  showRefreshed(ok);
  bar.refreshes += 1;
  document.body.dataset.refreshes = String(bar.refreshes);
}

// An answer arrived: say whether it is fresh, stale or partial; `dim` greys the numbers.
export function answered(answer, dim) {
  dim(Boolean(answer.stale));
  if (answer.stale) {
    const at = answer.last_updated ? clock(new Date(answer.last_updated)) : "earlier";
    showBanner("stale", `Prometheus is unreachable; showing the last good answer from ${at}.`);
  } else if (answer.partial) {
    const why = (answer.warnings || []).join("; ");
    showBanner("partial", `Part of this answer is missing${why ? `: ${why}` : ""}.`);
    bar.lastGood = new Date();
  } else {
    hideBanner();
    bar.lastGood = new Date();
  }
  counted(true);
}

// A request failed: the last numbers stay on screen, greyed; the banner says why.
export function failed(err, dim) {
  dim(true);
  showBanner(unreachable(err) ? "unreachable" : "error", describeFailure(err));
  counted(false);
}
