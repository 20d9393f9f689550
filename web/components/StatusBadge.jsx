'use client';

const KNOWN = new Set(['queued', 'running', 'succeeded', 'failed', 'skipped', 'active', 'inactive']);

export default function StatusBadge({ status, testid = 'status-badge' }) {
  const s = typeof status === 'string' && status ? status : 'unknown';
  const cls = KNOWN.has(s) ? s : 'unknown';
  return (
    <span className={`badge badge-${cls}`} data-testid={testid} data-status={s}>
      {s}
    </span>
  );
}
