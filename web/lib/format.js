// Formatting helpers that tolerate null, missing and oddly typed values.

export function safeJson(v) {
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    try {
      return String(v);
    } catch {
      return '[unprintable]';
    }
  }
}

export function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/** n (1024 or more) divided by 1024 until under 1024 or at the last unit: [value, unit]. */
function scale1024(n, units) {
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return [v, units[i]];
}

export function fmtBytes(n) {
  if (!isNum(n) || n < 0) return null;
  if (n < 1024) return `${n} B`;
  const [v, unit] = scale1024(n, ['KB', 'MB', 'GB', 'TB']);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${unit}`;
}

/** Binary units spelled out (KiB, MiB, GiB), whole numbers when exact: 100 MiB, 2.5 MiB. */
export function fmtBinary(n) {
  if (!isNum(n) || n < 0) return null;
  if (n < 1024) return `${n} bytes`;
  const [v, unit] = scale1024(n, ['KiB', 'MiB', 'GiB', 'TiB']);
  const whole = Math.abs(v - Math.round(v)) < 0.05;
  return `${whole ? Math.round(v) : v.toFixed(1)} ${unit}`;
}

export function parseTime(s) {
  if (typeof s !== 'string' || !s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtTime(s) {
  const d = parseTime(s);
  if (!d) return s == null ? '—' : String(s);
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function fmtMs(ms) {
  if (!isNum(ms)) return null;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  return `${m} min ${s} s`;
}

export function shortId(id) {
  if (typeof id !== 'string') return id == null ? '—' : safeJson(id);
  return id.length > 8 ? id.slice(0, 8) : id;
}

export function pageRange(start, end) {
  const s = isNum(start) ? start : null;
  const e = isNum(end) ? end : null;
  if (s == null && e == null) return null;
  if (s != null && e != null && s !== e) return `pages ${s}–${e}`;
  return `page ${s != null ? s : e}`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}
