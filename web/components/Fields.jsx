'use client';
import { isPlainObject, safeJson } from '../lib/format';

function tryFormat(fmt, v) {
  if (!fmt) return null;
  try {
    const out = fmt(v);
    return out === undefined ? null : out;
  } catch {
    return null;
  }
}

/**
 * Labelled fields of an object. `known` = [{key, label, fmt?}] in display order;
 * fmt returns a node, or null when the value has an unexpected type (then the raw
 * JSON is shown). Keys not in `known` (and not in `skip`) are listed generically.
 * Anything that is not an object is shown as JSON.
 */
export default function Fields({ obj, known = [], skip = [], testid, empty = 'nothing recorded' }) {
  if (obj == null) {
    return (
      <p className="muted" data-testid={testid}>
        {empty}
      </p>
    );
  }
  if (!isPlainObject(obj)) {
    return (
      <p data-testid={testid}>
        <code>{safeJson(obj)}</code>
      </p>
    );
  }
  const knownKeys = new Set(known.map((k) => k.key));
  const skipKeys = new Set(skip);
  const rows = [];
  for (const k of known) {
    if (!Object.prototype.hasOwnProperty.call(obj, k.key)) continue;
    const v = obj[k.key];
    let node = v === null ? <span className="muted">—</span> : tryFormat(k.fmt, v);
    if (node == null) node = typeof v === 'string' ? v : <code>{safeJson(v)}</code>;
    rows.push(
      <div className="kv" key={k.key} data-key={k.key}>
        <dt>{k.label}</dt>
        <dd>{node}</dd>
      </div>,
    );
  }
  const others = Object.keys(obj).filter((k) => !knownKeys.has(k) && !skipKeys.has(k));
  for (const k of others) {
    rows.push(
      <div className="kv other" key={`x-${k}`} data-key={k}>
        <dt>
          <code>{k}</code>
        </dt>
        <dd>
          <code>{safeJson(obj[k])}</code>
        </dd>
      </div>,
    );
  }
  if (!rows.length) {
    return (
      <p className="muted" data-testid={testid}>
        {empty}
      </p>
    );
  }
  return (
    <dl className="fields" data-testid={testid}>
      {rows}
    </dl>
  );
}
