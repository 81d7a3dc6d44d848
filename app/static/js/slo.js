// The SLO attainment of one model (`/api/metrics/slo/`) over the page's window, against a
// threshold and an objective the viewer can change (kept in the URL, so it can be shared).

import { apiUrl, getJson, pageParams } from "./api.js";
import { element, formatCount, formatRatio } from "./format.js";

export class SloPanel {
  // `histogram()` names the source's latency histogram; `common()` the model and time.
  constructor(config, histogram, common) {
    Object.assign(this, { histogram, common });
    this.form = document.getElementById("slo-form");
    this.threshold = document.getElementById("slo-threshold");
    this.objective = document.getElementById("slo-objective");
    this.out = document.getElementById("slo");
    this.threshold.value = pageParams.get("threshold_ms") || String(config.slo_threshold_ms);
    this.objective.value = pageParams.get("objective") || String(config.slo_objective);
    this.window = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.changed();
    });
    this.threshold.addEventListener("change", () => this.changed());
    this.objective.addEventListener("change", () => this.changed());
  }

  changed() {
    if (!this.form.reportValidity()) return;
    const url = new URL(window.location.href);
    url.searchParams.set("threshold_ms", this.threshold.value);
    url.searchParams.set("objective", this.objective.value);
    window.history.replaceState(null, "", url);
    if (this.window) this.load(this.window).catch(() => {});
  }

  async load(window) {
    this.window = window;
    const histogram = this.histogram();
    if (!histogram) {
      this.out.replaceChildren(element("p", { class: "empty" }, "This source has no latency histogram."));
      return;
    }
    const asked = { threshold: this.threshold.value, objective: this.objective.value };
    const { model, time } = this.common();
    const params = { ...histogram, model, time, threshold_ms: asked.threshold, objective: asked.objective, time_range: window };
    this.out.setAttribute("aria-busy", "true");
    try {
      const answer = await getJson(apiUrl("api/metrics/slo/", params));
      const still = asked.threshold === this.threshold.value && asked.objective === this.objective.value;
      if (still && window === this.window) this.show(answer.data.find((r) => r.model === this.common().model), window);
    } catch (err) {
      this.out.replaceChildren(element("p", { class: "empty" }, `SLO unavailable: ${err.message}.`));
      throw err;
    } finally {
      this.out.removeAttribute("aria-busy");
    }
  }

  show(row, window) {
    if (!row || row.share_under_threshold === null) {
      this.out.replaceChildren(element("p", { class: "empty", "data-share": "" }, `No requests in the last ${window}.`));
      return;
    }
    const met = row.met ? "met" : "missed";
    const figure = element("p", { class: `slo-share slo-${met}`, "data-share": row.share_under_threshold, "data-threshold": row.threshold_ms });
    figure.append(
      element("strong", {}, formatRatio(row.share_under_threshold)),
      document.createTextNode(` of requests within ${row.threshold_ms} ms over the last ${window}; objective ${formatRatio(row.objective)}: `),
      element("span", { class: `badge badge-${row.met ? "good" : "danger"}` }, met),
    );
    const details = element("p", { class: "key" });
    const budget = row.error_budget_remaining === null ? "—" : formatRatio(row.error_budget_remaining);
    details.textContent = `Error budget left ${budget} · ${formatCount(row.requests)} requests${row.exact ? "" : " · the threshold lies inside a bucket: estimated"}`;
    this.out.replaceChildren(figure, details);
  }
}
