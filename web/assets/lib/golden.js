// The golden signals of a service as PromQL, shared by Home and the service page. Two sources:
// span metrics (traces_span_metrics_*, by service_name, server and consumer spans — what Vigil
// derives from traces) and, for services seen only in metrics, Prometheus's conventional
// http_requests_total{job,code} and http_request_duration_seconds_bucket{job}.

import {pct} from './fmt.js';

export const SPAN_CALLS = 'traces_span_metrics_calls_total';
export const SPAN_DURATION = 'traces_span_metrics_duration_milliseconds_bucket';
const SERVER_KINDS = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';
const ERROR = 'status_code="STATUS_CODE_ERROR"';

/** esc(v) -> v quoted for a PromQL label matcher's value. */
export function esc(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * queries(source, w, {service, by}) -> {rate, errors, p50, p95, p99} PromQL over range window w
 * ("5m"). source: 'spans' | 'http'. service narrows to one service; by is the grouping
 * (default the service label; e.g. 'span_name' for operations). Latencies are in ms.
 */
export function queries(source, w, {service = null, by = null} = {}) {
  if (source === 'spans') {
    const svc = service != null ? `, service_name="${esc(service)}"` : '';
    const g = by || 'service_name';
    const calls = `${SPAN_CALLS}{${SERVER_KINDS}${svc}}`;
    const errs = `${SPAN_CALLS}{${SERVER_KINDS}, ${ERROR}${svc}}`;
    const q = (p) => `histogram_quantile(${p}, sum by (${g}, le) (rate(${SPAN_DURATION}{${SERVER_KINDS}${svc}}[${w}])))`;
    return {
      rate: `sum by (${g}) (rate(${calls}[${w}]))`,
      errors: `(sum by (${g}) (rate(${errs}[${w}])) or (sum by (${g}) (rate(${calls}[${w}])) * 0)) / sum by (${g}) (rate(${calls}[${w}]))`,
      p50: q(0.5), p95: q(0.95), p99: q(0.99),
    };
  }
  const svc = service != null ? `job="${esc(service)}"` : '';
  const g = by || 'job';
  const calls = `http_requests_total{${svc}}`;
  const errs = `http_requests_total{${svc ? svc + ', ' : ''}code=~"5.."}`;
  const q = (p) => `1000 * histogram_quantile(${p}, sum by (${g}, le) (rate(http_request_duration_seconds_bucket{${svc}}[${w}])))`;
  return {
    rate: `sum by (${g}) (rate(${calls}[${w}]))`,
    errors: `(sum by (${g}) (rate(${errs}[${w}])) or (sum by (${g}) (rate(${calls}[${w}])) * 0)) / sum by (${g}) (rate(${calls}[${w}]))`,
    p50: q(0.5), p95: q(0.95), p99: q(0.99),
  };
}

/** byLabel(vectorResult, label) -> Map(label value -> number). */
export function byLabel(result, label) {
  const m = new Map();
  for (const r of result || []) {
    const v = parseFloat(r.value[1]);
    m.set(r.metric[label] || '', isFinite(v) ? v : null);
  }
  return m;
}

/** budgetClass(remaining fraction) -> badge class: ok, warn, err. */
export function budgetClass(rem) {
  if (rem == null) return '';
  if (rem <= 0) return 'err';
  if (rem < 0.5) return 'warn';
  return 'ok';
}

/** budgetText(remaining fraction) -> "72% left", "budget spent" or "no data". */
export function budgetText(rem) {
  if (rem == null) return 'no data';
  return rem <= 0 ? 'budget spent' : pct(rem, 2) + ' left';
}

/** severityClass(severity label) -> badge class. */
export function severityClass(sev) {
  const s = String(sev || '').toLowerCase();
  if (s === 'critical' || s === 'high' || s === 'page') return 'err';
  if (s === 'medium' || s === 'warning' || s === 'warn') return 'warn';
  return 'info';
}

/** alertsHref(labels) -> the Alerts page filtered to the service an alert is about. */
export function alertsHref(labels) {
  const key = ['service', 'service_name', 'job'].find((k) => labels[k]);
  return key ? '/alerts?filter=' + encodeURIComponent(`${key}="${esc(labels[key])}"`) : '/alerts';
}

/** serviceOf(alert labels) -> the service an alert is about, if it names one. */
export function serviceOf(labels) {
  return labels.service || labels.service_name || labels.job || '';
}
