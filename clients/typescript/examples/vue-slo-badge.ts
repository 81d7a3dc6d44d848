// An SLO badge: `GET /api/metrics/slo/` for one model, "99.2 % ≤ 500 ms · met" in green or
// red, refreshed every minute. The histogram to ask comes from the status page's
// configuration (`latency_histograms`, per source), so it works for vLLM, LiteLLM...
import { defineComponent, type PropType } from "vue";
import { createClient, type SLOItem } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

export default defineComponent({
  name: "SloBadge",
  props: {
    model: { type: String, required: true },
    source: { type: String, default: "default" },
    thresholdMs: { type: Number, default: 500 },
    objective: { type: Number as PropType<number>, default: 99 },
  },
  template: `
    <span class="slo-badge" :style="{ color: colour }" :title="title">
      {{ text }}
    </span>`,
  data() {
    return { row: null as SLOItem | null, error: "", timer: 0 };
  },
  computed: {
    text(): string {
      if (this.error) return "SLO unavailable";
      const share = this.row?.share_under_threshold;
      if (share === null || share === undefined) return "no traffic";
      return `${(share * 100).toFixed(1)} % ≤ ${this.thresholdMs} ms · ${this.row?.met ? "met" : "missed"}`;
    },
    colour(): string {
      if (!this.row || this.row.met === null) return "gray";
      return this.row.met ? "seagreen" : "crimson";
    },
    title(): string {
      return this.error || `objective ${this.objective} % over the last hour`;
    },
  },
  async mounted() {
    await this.load();
    this.timer = window.setInterval(() => void this.load(), 60_000);
  },
  unmounted() {
    window.clearInterval(this.timer);
  },
  methods: {
    async load(): Promise<void> {
      try {
        const config = await api.statusConfig();
        const histogram = config.latency_histograms[this.source];
        if (!histogram) throw new Error(`no latency histogram for ${this.source}`);
        const answer = await api.slo({
          ...histogram,
          model: [this.model],
          threshold_ms: this.thresholdMs,
          objective: this.objective,
          time_range: "1h",
        });
        this.row = answer.data.find((item) => item.model === this.model) ?? null;
        this.error = "";
      } catch (err) {
        this.error = err instanceof Error ? err.message : String(err);
      }
    },
  },
});
