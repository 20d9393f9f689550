'use client';
import { isNum, isPlainObject, safeJson } from '../lib/format';

// The worker's stages in words, with the unit its counts are in (src/worker/README.md).
const STAGE = {
  claimed: ['starting', null],
  read: ['reading the file', null],
  extract: ['extracting text', 'pages'],
  chunk: ['splitting into passages', 'passages'],
  embed: ['indexing passages', 'passages'],
  write: ['saving', 'passages'],
  done: ['done', null],
};

/** stats.progress {stage, done, total} as text plus a bar; tolerant of odd shapes. */
export default function RunProgress({ progress }) {
  if (progress == null) return null;
  if (!isPlainObject(progress)) {
    return <span className="muted">progress: {safeJson(progress)}</span>;
  }
  const stage = progress.stage == null ? null : String(progress.stage);
  const done = isNum(progress.done) ? progress.done : null;
  const total = isNum(progress.total) ? progress.total : null;
  const hasBar = done != null && total != null && total > 0;
  const pct = hasBar ? Math.max(0, Math.min(100, (done / total) * 100)) : null;
  return (
    <span className="stage-progress" data-testid="stage-progress">
      <span>
        {stage ? <strong>{STAGE[stage] ? STAGE[stage][0] : stage}</strong> : 'working'}
        {total ? ` ${done ?? 0} of ${total}${STAGE[stage] && STAGE[stage][1] ? ` ${STAGE[stage][1]}` : ''}` : ''}
      </span>
      {hasBar ? (
        <progress
          max={100}
          value={pct}
          aria-label={`Stage ${stage || ''} progress`}
          className="bar-small"
        />
      ) : null}
    </span>
  );
}
