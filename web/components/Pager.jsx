'use client';

export default function Pager({ limit, offset, total, count, onOffset }) {
  const hasPrev = offset > 0;
  const hasNext = total != null ? offset + limit < total : count >= limit;
  const from = count ? offset + 1 : 0;
  const to = offset + count;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" className="secondary" disabled={!hasPrev} onClick={() => onOffset(Math.max(0, offset - limit))} data-testid="page-prev">
        ← Previous
      </button>
      <span className="muted">
        {from}–{to}
        {total != null ? ` of ${total}` : ''}
      </span>
      <button type="button" className="secondary" disabled={!hasNext} onClick={() => onOffset(offset + limit)} data-testid="page-next">
        Next →
      </button>
    </nav>
  );
}
