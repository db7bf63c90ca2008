// Figures the SLO pages derive from /api/v1/slos: windows in seconds, time to exhaustion, the
// list order and percent formatting. Pure, so the browser suite can check them directly.

const unit = { ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

// windowSeconds reads a Prometheus duration ("5m", "1h30m", "30d") or a calendar window
// ("calendar day|week|month"; a month counts as 30 days); NaN when it is neither.
export function windowSeconds(w) {
  const cal = /^calendar (day|week|month)$/.exec(w || '');
  if (cal) return { day: 86400, week: 604800, month: 30 * 86400 }[cal[1]];
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0, m, any = false;
  re.lastIndex = 0;
  while (re.lastIndex < (w || '').length && (m = re.exec(w))) { total += Number(m[1]) * unit[m[2]]; any = true; }
  return any && re.lastIndex === w.length ? total : NaN;
}

// exhaustion is the seconds until the remaining budget (a fraction of the budget) is spent
// at a burn rate (1 = spending exactly the whole budget over the SLO window): Infinity when
// nothing burns, 0 when the budget is already gone, NaN without data.
export function exhaustion(remaining, burnRate, windowSecs) {
  if (remaining == null || burnRate == null || !isFinite(windowSecs)) return NaN;
  if (remaining <= 0) return 0;
  if (burnRate <= 0) return Infinity;
  return remaining * windowSecs / burnRate;
}

// sortByBudget orders SLOs by budget remaining, least first; SLOs without data go last, then
// by name.
export function sortByBudget(list) {
  return list.slice().sort((a, b) => {
    const x = a.budget_remaining, y = b.budget_remaining;
    if (x == null && y == null) return a.name.localeCompare(b.name);
    if (x == null) return 1;
    if (y == null) return -1;
    return x - y || a.name.localeCompare(b.name);
  });
}

// windowOrder sorts burn-rate window keys by length.
export function windowOrder(keys) {
  return keys.slice().sort((a, b) => windowSeconds(a) - windowSeconds(b));
}

// pct prints a fraction as a percent with enough digits for objectives such as 99.95%.
export function pct(v, digits) {
  if (v == null || !isFinite(v)) return '–';
  const p = v * 100;
  if (digits === undefined) digits = Math.abs(p) >= 99 && Math.abs(p) < 100 ? 3 : 1;
  return `${+p.toFixed(digits)}%`;
}

// humanSeconds prints a time span briefly: 45s, 12m, 5h 20m, 3d 4h; ∞ for Infinity.
export function humanSeconds(s) {
  if (s === Infinity) return 'never at this rate';
  if (!isFinite(s)) return '–';
  if (s <= 0) return 'exhausted';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  if (s < 365 * 86400) return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
  return `${Math.round(s / (365 * 86400))}y`;
}

// burnClass names how alarming a burn rate is, by the SRE Workbook's thresholds.
export function burnClass(b) {
  if (b == null || !isFinite(b)) return 'none';
  if (b >= 14.4) return 'crit';
  if (b >= 6) return 'high';
  if (b > 1) return 'warn';
  return 'ok';
}

// budgetClass names how alarming a remaining budget is.
export function budgetClass(r) {
  if (r == null || !isFinite(r)) return 'none';
  if (r <= 0) return 'crit';
  if (r < 0.25) return 'high';
  if (r < 0.5) return 'warn';
  return 'ok';
}
