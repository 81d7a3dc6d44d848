// Seed 001, "Vue.js 예시", as a component whose template lives in the same file (a .vue
// single-file component would hold the same <template> and this <script lang="ts">).
import { defineComponent } from "vue";
import { createClient, type P95Item } from "../src/client";

const api = createClient({ baseUrl: "http://localhost:8000" });

export default defineComponent({
  name: "ModelP95",
  template: `
    <div>
      <h2>p95 latency per model</h2>
      <div v-for="metric in metrics" :key="metric.model">
        {{ metric.model }}: {{ formatMs(metric.p95_latency_ms) }}
      </div>
    </div>`,
  data() {
    return { metrics: [] as P95Item[] };
  },
  async mounted() {
    const data = await api.p95();
    this.metrics = data.data;
  },
  methods: {
    formatMs(value: number | null): string {
      return value === null ? "no data" : `${value.toFixed(1)}ms`;
    },
  },
});
