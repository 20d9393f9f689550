'use client';

const KNOWN = new Set(['queued', 'running', 'succeeded', 'failed', 'skipped', 'active', 'inactive']);
// Document states (docs/api.md) drawn like the run status they resemble.
const ALIAS = { processing: 'running', deleted: 'inactive' };

export default function StatusBadge({ status, testid = 'status-badge' }) {
  const s = typeof status === 'string' && status ? status : 'unknown';
  const cls = KNOWN.has(s) ? s : ALIAS[s] || 'unknown';
  return (
    <span className={`badge badge-${cls}`} data-testid={testid} data-status={s}>
      {s}
    </span>
  );
}
