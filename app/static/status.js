// Status page of Model Latency API: reads the service's own JSON endpoints and nothing else.
// The overview at `/` (js/overview.js) and a model's page at `/models/?model=<name>`
// (js/model.js) share the API client, formatting, table and chart modules in js/.
//
// Optional query parameters of the page, passed on to the API:
//   time=<unix seconds or RFC 3339>  evaluate at that moment instead of now (no stream)
//   time_range=5m                    rate window of the scorecard (`window` of /api/models/)
//   model=a&model=b, profile=vllm    only these models, only this source (overview)
//   refresh=30                       seconds between refreshes (default from the server)
//   window=6h                        the model page's charts: 15m, 1h (default), 6h, 24h, 7d
//   threshold_ms=500&objective=99.9  the model page's SLO

import { loadConfig } from "./js/api.js";
import { ModelPage } from "./js/model.js";
import { Overview } from "./js/overview.js";
import { setPeriod } from "./js/status-bar.js";

async function main() {
  const config = await loadConfig();
  setPeriod(config.refresh_seconds);
  const onModelPage = /\/models\/?$/.test(window.location.pathname);
  const view = onModelPage ? new ModelPage(config) : new Overview(config);
  view.start();
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => view.redraw && view.redraw(), 150);
  });
  // Tests and curious people can refresh now from the console: statusPage.refresh().
  window.statusPage = { refresh: () => view.refresh(), view };
}

main();
