// A dashboard saved as YAML through the dashboards API, for dashboards.test.mjs: a fixed-list
// variable, and one panel of each kind over the seeded metrics and logs.
export default async function ({base}) {
  const yaml = `# Seeded by the browser tests.
title: Checkout overview
variables:
  - name: job
    label: Job
    values: [checkout, frontend]
panels:
  - {title: Requests by code, type: graph, query: 'sum by (code) (rate(http_requests_total{job="$job"}[$__rate_interval]))', unit: reqps, w: 8}
  - {title: Requests in range, type: stat, query: 'sum(increase(http_requests_total{job="$job"}[$__range]))', w: 4}
  - {title: By code, type: table, query: 'sum by (code) (increase(http_requests_total{job="$job"}[$__range]))', w: 4}
  - {title: Error lines, type: logs, display: lines, query: 'service:$job AND level:error', w: 8}
  - {title: Log volume, type: logs, display: volume, query: 'service:$job', w: 12}
`;
  const r = await fetch(base + '/api/v1/dashboards/checkout-overview', {method: 'PUT', headers: {'Content-Type': 'application/yaml'}, body: yaml});
  if (!r.ok) throw new Error(`seed dashboard: HTTP ${r.status}: ${await r.text()}`);
  return {dashboard: {name: 'checkout-overview', title: 'Checkout overview', panels: 5}};
}
