'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../lib/api';
import { fmtTime, isNum, isPlainObject } from '../../lib/format';
import { isAdmin, useSession } from '../../components/Session';
import StatusBadge from '../../components/StatusBadge';
import Pager from '../../components/Pager';
import DataTable from '../../components/DataTable';

function docIsActive(d) {
  return !!d && d.active_version_id != null && d.deleted_at == null;
}

export default function DocumentsPage() {
  const { user } = useSession();
  const admin = isAdmin(user);
  const [titleInput, setTitleInput] = useState('');
  const [title, setTitle] = useState('');
  const [all, setAll] = useState(false);
  const [limit] = useState(20);
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);

  // debounce the title filter
  useEffect(() => {
    const t = setTimeout(() => {
      setTitle(titleInput.trim());
      setOffset(0);
    }, 300);
    return () => clearTimeout(t);
  }, [titleInput]);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
      if (title) q.set('title', title);
      if (all && admin) q.set('include_inactive', 'true');
      const d = await api(`/v1/documents?${q}`);
      setData(isPlainObject(d) ? d : {});
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [limit, offset, title, all, admin]);

  useEffect(() => {
    load();
  }, [load]);

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
              onChange={(e) => {
                setAll(e.target.checked);
                setOffset(0);
              }}
              data-testid="docs-show-all"
            />
            <label htmlFor="docs-all">Show all (incl. inactive)</label>
          </div>
        ) : null}
        <span className="muted" aria-live="polite">
          {loading ? 'loading…' : ''}
        </span>
      </form>
      <DataTable
        rows={data ? docs : null}
        error={error}
        loading={null}
        testid="docs-table"
        columns={['Title', 'Source type', 'Source URI', 'Updated', all && admin && 'State']}
        empty={`No documents${title ? ` matching “${title}”` : ''}.`}
        emptyTestid="docs-empty"
        row={(d, i) => {
          const id = typeof d.doc_id === 'string' ? d.doc_id : null;
          const t = typeof d.title === 'string' && d.title ? d.title : '(untitled)';
          return (
            <tr key={id || i} data-testid="doc-row" data-doc-id={id || ''}>
              <td className="wrap">
                {id ? (
                  <Link href={`/documents/detail/?id=${encodeURIComponent(id)}`} prefetch={false}>
                    {t}
                  </Link>
                ) : (
                  t
                )}
              </td>
              <td>{d.source_type == null ? '—' : String(d.source_type)}</td>
              <td className="wrap mono small">{d.source_uri == null ? '—' : String(d.source_uri)}</td>
              <td>{fmtTime(d.updated_at)}</td>
              {all && admin ? (
                <td>
                  <StatusBadge status={docIsActive(d) ? 'active' : 'inactive'} testid="doc-state" />
                </td>
              ) : null}
            </tr>
          );
        }}
      />
      <Pager limit={limit} offset={offset} total={total} count={docs.length} onOffset={setOffset} />
    </section>
  );
}
