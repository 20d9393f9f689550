'use client';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api';
import { fmtBytes, fmtTime, isNum, isPlainObject } from '../../lib/format';
import { useUrlParams } from '../../lib/useUrlParams';
import { Suspended } from '../../components/AsyncState';
import { isAdmin, useSession } from '../../components/Session';
import StatusBadge from '../../components/StatusBadge';
import Pager from '../../components/Pager';
import DataTable from '../../components/DataTable';

function docState(d) {
  if (typeof d.state === 'string') return d.state;
  return d.active_version_id != null && d.deleted_at == null ? 'active' : 'inactive';
}

const TYPES = {
  'application/pdf': 'PDF',
  'text/html': 'HTML',
  'text/markdown': 'Markdown',
  'text/plain': 'Text',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
};

const SORTS = [
  ['updated', 'Recently updated'],
  ['title', 'Title (A–Z)'],
  ['size', 'Largest first'],
  ['pages', 'Most pages'],
];

export default function DocumentsPage() {
  return (
    <Suspended>
      <Documents />
    </Suspended>
  );
}

// Title filter, sort, "show all", the source and the page live in the URL
// (?title=&sort=&all=1&source=&offset=).
function Documents() {
  const { user } = useSession();
  const admin = isAdmin(user);
  const [u, setU] = useUrlParams({ title: '', sort: 'updated', all: '', source: '', offset: '0' });
  const title = u.title;
  const all = u.all === '1';
  const sort = u.sort;
  const source = u.source;
  const [sourceName, setSourceName] = useState(null);
  const offset = Number(u.offset) || 0;
  const limit = 20;
  const [titleInput, setTitleInput] = useState(title);
  const setOffset = (o) => setU({ offset: String(o) });
  const setAll = (v) => setU({ all: v ? '1' : '', offset: '0' });
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);

  // debounce the title filter
  useEffect(() => {
    const t = setTimeout(() => {
      if (titleInput.trim() !== title) setU({ title: titleInput.trim(), offset: '0' });
    }, 300);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [titleInput]);

  // Only the newest request's answer is shown: an older one (the filter before the
  // last keystroke) may arrive after it and must not overwrite it.
  const seq = useRef(0);
  const load = useCallback(async () => {
    seq.current += 1;
    const mine = seq.current;
    setLoading(true);
    try {
      const q = new URLSearchParams({ limit: String(limit), offset: String(offset), sort });
      if (title) q.set('title', title);
      if (all && admin) q.set('include_inactive', 'true');
      if (source) q.set('source_id', source);
      const d = await api(`/v1/documents?${q}`);
      if (mine !== seq.current) return;
      setData(isPlainObject(d) ? d : {});
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [limit, offset, title, all, admin, sort, source]);

  useEffect(() => {
    load();
  }, [load]);

  // The name of the source the list is filtered by (?source=, from the Sources screen).
  useEffect(() => {
    setSourceName(null);
    if (!source) return undefined;
    let live = true;
    api(`/v1/sources/${encodeURIComponent(source)}`)
      .then((s) => { if (live && isPlainObject(s) && typeof s.name === 'string') setSourceName(s.name); })
      .catch(() => {});
    return () => { live = false; };
  }, [source]);

  const docs = data && Array.isArray(data.documents) ? data.documents.filter((d) => d && typeof d === 'object') : [];
  const total = data && isNum(data.total) ? data.total : null;

  return (
    <section>
      <h1>Documents</h1>
      <form className="toolbar" onSubmit={(e) => e.preventDefault()} role="search" aria-label="Filter documents">
        <div className="field-inline">
          <label htmlFor="docs-title">Title contains</label>
          <input
            id="docs-title"
            type="search"
            value={titleInput}
            onChange={(e) => setTitleInput(e.target.value)}
            data-testid="docs-title-filter"
          />
        </div>
        {admin ? (
          <div className="field-inline">
            <input
              id="docs-all"
              type="checkbox"
              checked={all}
              onChange={(e) => setAll(e.target.checked)}
              data-testid="docs-show-all"
            />
            <label htmlFor="docs-all">Show all (incl. inactive)</label>
          </div>
        ) : null}
        <div className="field-inline">
          <label htmlFor="docs-sort">Sort</label>
          <select id="docs-sort" value={sort} onChange={(e) => setU({ sort: e.target.value, offset: '0' })} data-testid="docs-sort">
            {SORTS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <span className="muted" aria-live="polite">
          {loading ? 'loading…' : ''}
        </span>
      </form>
      {source ? (
        <p className="toolbar" data-testid="docs-source-filter" data-source-id={source}>
          <span>
            Documents synced from the source <strong>{sourceName ?? source}</strong>
          </span>{' '}
          <button type="button" className="link" onClick={() => setU({ source: '', offset: '0' })} data-testid="docs-source-clear">
            Show all documents
          </button>
        </p>
      ) : null}
      <DataTable
        rows={data ? docs : null}
        error={error}
        loading={null}
        testid="docs-table"
        columns={['Title', 'Type', 'Pages', 'Size', 'Uploaded by', 'Updated', 'State']}
        empty={`No documents${title ? ` matching “${title}”` : ''}.`}
        emptyTestid="docs-empty"
        row={(d, i) => {
          const id = typeof d.doc_id === 'string' ? d.doc_id : null;
          const t = typeof d.title === 'string' && d.title ? d.title : '(untitled)';
          return (
            <tr key={id || i} data-testid="doc-row" data-doc-id={id || ''}>
              <td className="wrap titlecell">
                {id ? (
                  <Link href={`/documents/detail/?id=${encodeURIComponent(id)}`} prefetch={false}>
                    {t}
                  </Link>
                ) : (
                  t
                )}
              </td>
              <td>{TYPES[d.mime] || (d.source_type === 's3' ? 'S3' : '—')}</td>
              <td>{isNum(d.pages) ? d.pages : '—'}</td>
              <td>{fmtBytes(d.byte_size) || '—'}</td>
              <td className="wrap">{d.uploaded_by || '—'}</td>
              <td>{fmtTime(d.updated_at)}</td>
              <td>
                <StatusBadge status={docState(d)} testid="doc-state" />
              </td>
            </tr>
          );
        }}
      />
      <Pager limit={limit} offset={offset} total={total} count={docs.length} onOffset={setOffset} />
    </section>
  );
}
