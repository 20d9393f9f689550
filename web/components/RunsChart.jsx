'use client';
import { parseTime } from '../lib/format';

const ORDER = ['succeeded', 'skipped', 'running', 'queued', 'failed', 'other'];
const COLORS = {
  succeeded: '#15803d',
  skipped: '#6b7280',
  running: '#2563eb',
  queued: '#93c5fd',
  failed: '#dc2626',
  other: '#a855f7',
};
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

function pad(n) {
  return String(n).padStart(2, '0');
}

/** Buckets runs by hour (span under 48 h) or by day, counting statuses. */
export function bucketRuns(runs) {
  const times = [];
  for (const r of Array.isArray(runs) ? runs : []) {
    const d = r && typeof r === 'object' ? parseTime(r.created_at) : null;
    if (d) times.push({ t: d.getTime(), status: ORDER.includes(r.status) ? r.status : 'other' });
  }
  if (!times.length) return { unit: 'hour', buckets: [] };
  const min = Math.min(...times.map((x) => x.t));
  const max = Math.max(...times.map((x) => x.t));
  const unit = max - min < 48 * HOUR ? 'hour' : 'day';
  const floor = (t) => {
    const d = new Date(t);
    if (unit === 'hour') d.setMinutes(0, 0, 0);
    else d.setHours(0, 0, 0, 0);
    return d.getTime();
  };
  const step = unit === 'hour' ? HOUR : DAY;
  const start = floor(min);
  const end = floor(max);
  // cap the number of bars: at most 60 (older empty ones are dropped)
  // at least 12 bars so that a single busy hour still reads as a bar chart
  const first = floor(Math.max(Math.min(start, end - 11 * step), end - 59 * step));
  const map = new Map();
  for (let t = first; t <= end; t = floor(t + step + (unit === 'day' ? 2 * HOUR : 0))) {
    map.set(t, { t, total: 0, by: {} });
    if (map.size > 60) break;
  }
  for (const x of times) {
    const k = floor(x.t);
    const b = map.get(k);
    if (!b) continue;
    b.total += 1;
    b.by[x.status] = (b.by[x.status] || 0) + 1;
  }
  return { unit, buckets: [...map.values()] };
}

function label(t, unit) {
  const d = new Date(t);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return unit === 'hour' ? `${day} ${pad(d.getHours())}:00` : day;
}

export default function RunsChart({ runs }) {
  const { unit, buckets } = bucketRuns(runs);
  if (!buckets.length) return null;
  const W = 640;
  const H = 140;
  const padL = 28;
  const padB = 22;
  const maxTotal = Math.max(1, ...buckets.map((b) => b.total));
  const bw = (W - padL) / buckets.length;
  const scale = (H - padB - 8) / maxTotal;
  const sum = buckets.reduce((a, b) => a + b.total, 0);
  const desc = `${sum} runs shown, by ${unit}, from ${label(buckets[0].t, unit)} to ${label(
    buckets[buckets.length - 1].t,
    unit,
  )}; busiest ${unit} had ${maxTotal}.`;
  const labelEvery = Math.ceil(buckets.length / 8);
  return (
    <figure className="chart" data-testid="runs-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Runs per ${unit}. ${desc}`} preserveAspectRatio="xMidYMid meet">
        <line x1={padL} y1={H - padB} x2={W} y2={H - padB} stroke="#9ca3af" />
        <text x={padL - 4} y={12} textAnchor="end" fontSize="10" fill="#4b5563">
          {maxTotal}
        </text>
        <text x={padL - 4} y={H - padB} textAnchor="end" fontSize="10" fill="#4b5563">
          0
        </text>
        {buckets.map((b, i) => {
          let y = H - padB;
          const w = Math.max(1, Math.min(48, bw * 0.8));
          const x = padL + i * bw + (bw - w) / 2;
          return (
            <g key={b.t}>
              <title>{`${label(b.t, unit)}: ${b.total} run${b.total === 1 ? '' : 's'}${ORDER.filter((s) => b.by[s])
                .map((s) => `, ${b.by[s]} ${s}`)
                .join('')}`}</title>
              {ORDER.filter((s) => b.by[s]).map((s) => {
                const h = b.by[s] * scale;
                y -= h;
                return <rect key={s} x={x} y={y} width={w} height={h} fill={COLORS[s]} />;
              })}
              {i % labelEvery === 0 ? (
                <text x={x + w / 2} y={H - 6} textAnchor="middle" fontSize="9" fill="#4b5563">
                  {unit === 'hour' ? `${pad(new Date(b.t).getHours())}h` : label(b.t, unit).slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        Runs on this page per {unit}.{' '}
        {ORDER.filter((s) => s !== 'other').map((s) => (
          <span key={s} className="legend">
            <span className="swatch" style={{ background: COLORS[s] }} aria-hidden="true" /> {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
