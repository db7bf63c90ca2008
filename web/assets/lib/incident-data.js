// What the incident timeline reads, without the DOM: the alert-state and SLO-burn queries for
// one service, the Alertmanager alerts and notification history about it, and the slow and
// failed traces of a Jaeger search. Each returns data on the page's shared time axis.

import {esc, serviceOf} from './golden.js';

/** The labels an alert may name its service by, as lib/golden.js's serviceOf reads them. */
const SERVICE_LABELS = ['service', 'service_name', 'job'];

/**
 * alertStateQuery(service) -> PromQL giving, per alertname about the service, 2 while firing
 * and 1 while pending (from the ALERTS series the rule manager writes).
 */
export function alertStateQuery(service) {
  const sel = (state) => SERVICE_LABELS.map((l) => `ALERTS{${l}="${esc(service)}", alertstate="${state}"}`).join(' or ');
  return `max by (alertname) (2 * (${sel('firing')}) or (${sel('pending')}))`;
}

/** activeSinceQuery(service) -> PromQL: when each active rule alert about the service became active (ALERTS_FOR_STATE). */
export function activeSinceQuery(service) {
  return `max by (alertname) (${SERVICE_LABELS.map((l) => `ALERTS_FOR_STATE{${l}="${esc(service)}"}`).join(' or ')})`;
}

/** sloBurnQuery(slo, window) -> the SLO's burn rate over the window (1 = spending the budget exactly over its period). */
export function sloBurnQuery(slo, w) {
  return `max(slo:sli_error:ratio_rate${w}{slo="${esc(slo.name)}"}) / ${slo.error_budget}`;
}

/** burnWindow(slo) -> the shortest recorded window of at least 5m, the one that shows a spike soonest. */
export function burnWindow(slo) {
  const order = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
  const have = Object.keys(slo.burn_rates || {});
  return order.find((w) => have.includes(w)) || have[0] || '1h';
}

/**
 * alertIntervals(alerts, service, start, end) -> [{name, from, to, severity}] for Alertmanager
 * alerts about the service overlapping the range (an alert still active runs to `end`).
 */
export function alertIntervals(alerts, service, start, end) {
  const out = [];
  for (const a of alerts || []) {
    const labels = a.labels || {};
    if (serviceOf(labels) !== service) continue;
    const from = Date.parse(a.startsAt);
    const active = !a.status || a.status.state === 'active';
    const to = active ? end : Math.min(end, Date.parse(a.endsAt) || end);
    if (!(from < end && to > start)) continue;
    out.push({name: labels.alertname || '(no name)', from: Math.max(from, start), to, severity: labels.severity || ''});
  }
  return out;
}

/** notificationsFor(history, service) -> the notification records whose group names the service. */
export function notificationsFor(history, service) {
  const needle = `="${service}"`;
  return (history || []).filter((n) => String(n.groupKey || '').includes(needle));
}

/** traceSummary(jaegerTrace) -> {id, t (ms), dur (ms), root, failed}. */
export function traceSummary(t) {
  let min = Infinity, max = -Infinity, root = null, failed = false;
  for (const sp of t.spans || []) {
    min = Math.min(min, sp.startTime);
    max = Math.max(max, sp.startTime + sp.duration);
    if (!sp.references || !sp.references.length) root = root || sp;
    if ((sp.tags || []).some((tg) => tg.key === 'error' && (tg.value === true || tg.value === 'true'))) failed = true;
  }
  return {id: t.traceID, t: min / 1000, dur: (max - min) / 1000, root: root ? root.operationName : '', failed};
}

/**
 * slowAndFailed(traces, quantile = 0.9) -> {points, threshold}: the failed traces and those at
 * or above the quantile of the sample's durations, one point each (group 'failed' or 'slow').
 */
export function slowAndFailed(traces, quantile = 0.9) {
  const all = traces.map(traceSummary).filter((t) => isFinite(t.t));
  const sorted = all.map((t) => t.dur).sort((a, b) => a - b);
  const threshold = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] : Infinity;
  const points = [];
  const seen = new Set();
  for (const t of all) {
    if (seen.has(t.id)) continue;
    if (t.failed || t.dur >= threshold) {
      seen.add(t.id);
      points.push({...t, y: t.dur, group: t.failed ? 'failed' : 'slow'});
    }
  }
  return {points, threshold, sample: all.length};
}

/**
 * onGrid(times, intervals, value) -> values on the time grid: value where an interval covers
 * the grid time (to within half a step), else null.
 */
export function onGrid(times, intervals, value) {
  const half = times.length > 1 ? (times[1] - times[0]) / 2 : 0;
  return times.map((t) => (intervals.some((iv) => iv.from - half <= t && t <= iv.to + half) ? value : null));
}
