// Number, duration and byte formatting shared by every page. Pure functions, no DOM.

const intFmt = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});

/** int(52113) -> "52,113" */
export function int(n) {
  return n == null || !isFinite(n) ? '–' : intFmt.format(n);
}

/** num(v, digits=3): compact with SI suffix: 1234 -> "1.23k", 0.00012 -> "120µ". */
export function num(v, digits = 3) {
  if (v == null || Number.isNaN(v)) return '–';
  if (!isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const units = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n']];
  for (const [f, u] of units) {
    if (a >= f) return trim((v / f).toPrecision(digits)) + u;
  }
  return v.toExponential(2);
}

/** value(v): a plain number for tables: no SI suffix, at most 6 significant digits. */
export function value(v) {
  if (v == null || Number.isNaN(v)) return '–';
  if (!isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e15 || a < 1e-4)) return v.toExponential(4);
  return trim(v.toPrecision(6));
}

function trim(s) {
  return s.includes('e') || !s.includes('.') ? s : s.replace(/\.?0+$/, '');
}

/** pct(0.01234) -> "1.23%"; the argument is a fraction. */
export function pct(f, digits = 3) {
  if (f == null || !isFinite(f)) return '–';
  if (f === 0) return '0%';
  const p = f * 100;
  if (Math.abs(p) < 0.001) return '<0.001%';
  if (Math.abs(p) >= 10 ** digits) return int(p) + '%';
  return trim(p.toPrecision(digits)) + '%';
}

/** dur(ms): "850µs", "12.3ms", "1.25s", "3m 20s", "2h 5m", "3d 4h". */
export function dur(ms) {
  if (ms == null || !isFinite(ms)) return '–';
  const neg = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms === 0) return '0';
  if (ms < 1) return neg + trim((ms * 1000).toPrecision(3)) + 'µs';
  if (ms < 1000) return neg + trim(ms.toPrecision(3)) + 'ms';
  const s = ms / 1000;
  if (s < 60) return neg + trim(s.toPrecision(3)) + 's';
  const parts = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let rest = Math.round(s), out = [];
  for (const [f, u] of parts) {
    if (rest >= f) {
      out.push(Math.floor(rest / f) + u);
      rest %= f;
    }
    if (out.length === 2) break;
  }
  return neg + out.join(' ');
}

/** durSec(s): dur for a value in seconds. */
export function durSec(s) {
  return s == null ? '–' : dur(s * 1000);
}

/** bytes(1536) -> "1.5 KiB" */
export function bytes(n) {
  if (n == null || !isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : trim(n.toPrecision(3))) + ' ' + units[i];
}

/** rate(v): per-second rate, "12.3/s". */
export function rate(v) {
  if (v == null || !isFinite(v)) return '–';
  // Below one a second, per minute (or hour) reads better than "5.7m/s".
  const a = Math.abs(v);
  const sig = (x) => (Math.abs(x) >= 1000 ? num(x) : trim(x.toPrecision(3)));
  if (a === 0 || a >= 1) return num(v) + '/s';
  if (a * 60 >= 1) return sig(v * 60) + '/min';
  return sig(v * 3600) + '/h';
}

/** parseDuration("1h30m") -> ms, or NaN. Prometheus units: ms s m h d w y. */
export function parseDuration(s) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  const mult = {ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6};
  s = String(s).trim();
  if (!s) return NaN;
  let total = 0, used = 0, m;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]) * mult[m[2]];
    used += m[0].length;
  }
  return used === s.length ? total : NaN;
}

/** promDuration(ms) -> "1h30m": the shortest Prometheus duration for a whole number of seconds. */
export function promDuration(ms) {
  let s = Math.max(1, Math.round(ms / 1000));
  const parts = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let out = '';
  for (const [f, u] of parts) {
    if (s >= f) {
      out += Math.floor(s / f) + u;
      s %= f;
    }
  }
  return out;
}
