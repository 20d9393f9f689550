'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'next/navigation';
import { api } from '../../../lib/api';
import { fmtBytes, fmtTime, isNum, isPlainObject, safeJson, shortId } from '../../../lib/format';
import { isAdmin, useSession } from '../../../components/Session';
import ErrorMessage from '../../../components/ErrorMessage';
import StatusBadge from '../../../components/StatusBadge';
import Fields from '../../../components/Fields';
import DataTable from '../../../components/DataTable';
import AsyncState, { Suspended } from '../../../components/AsyncState';

const timeFmt = (v) => (typeof v === 'string' ? fmtTime(v) : null);
const code = (v) => (typeof v === 'string' ? <code className="break">{v}</code> : null);

function DocumentDetail() {
  const params = useSearchParams();
  const id = params.get('id');
  const { user } = useSession();
  const admin = isAdmin(user);
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState(null);
  const [notice, setNotice] = useState(null);

  const load = useCallback(async () => {
    if (!id) return;
    try {
      const d = await api(`/v1/documents/${encodeURIComponent(id)}`);
      setDoc(isPlainObject(d) ? d : {});
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [id]);

  useEffect(() => {
    load();
  }, [load]);

  async function onDelete() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api(`/v1/documents/${encodeURIComponent(id)}`, { method: 'DELETE' });
      setNotice('Document deleted: every version is inactive and search no longer returns it.');
      setConfirming(false);
      await load();
    } catch (e) {
      setDeleteError(e);
    } finally {
      setDeleting(false);
    }
  }

  if (!id) {
    return (
      <section>
        <h1>Document</h1>
        <ErrorMessage error="No document id given." />
      </section>
    );
  }

  const versions = doc && Array.isArray(doc.versions) ? doc.versions.filter((v) => v && typeof v === 'object') : [];
  const active = doc && doc.active_version_id != null && doc.deleted_at == null;
  const title = doc && typeof doc.title === 'string' && doc.title ? doc.title : '(untitled)';

  return (
    <section data-testid="doc-detail">
      <p>
        <Link href="/documents/" prefetch={false}>
          ← All documents
        </Link>
      </p>
      <AsyncState data={doc} error={error}>
        {() => (
          <>
            <h1 data-testid="doc-title">{title}</h1>
            <div className="runhead">
              <StatusBadge status={active ? 'active' : 'inactive'} testid="doc-state" />
              {admin && doc.deleted_at == null ? (
                confirming ? (
                  <span className="confirm" role="group" aria-label="Confirm deletion">
                    <span>Delete this document? Search will stop returning it.</span>
                    <button type="button" className="danger" onClick={onDelete} disabled={deleting} data-testid="doc-delete-confirm">
                      {deleting ? 'Deleting…' : 'Yes, delete'}
                    </button>
                    <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={deleting}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <button type="button" className="danger" onClick={() => setConfirming(true)} data-testid="doc-delete">
                    Delete
                  </button>
                )
              ) : null}
            </div>
            {notice ? (
              <p className="notice" role="status">
                {notice}
              </p>
            ) : null}
            <ErrorMessage error={deleteError} prefix="Delete failed" />
            <Fields
              obj={doc}
              testid="doc-fields"
              skip={['versions', 'title']}
              known={[
                { key: 'doc_id', label: 'Document id', fmt: code },
                { key: 'source_type', label: 'Source type', fmt: (v) => (typeof v === 'string' ? v : null) },
                { key: 'source_uri', label: 'Source URI', fmt: code },
                { key: 'active_version_id', label: 'Active version', fmt: code },
                { key: 'created_at', label: 'Created', fmt: timeFmt },
                { key: 'updated_at', label: 'Updated', fmt: timeFmt },
                { key: 'deleted_at', label: 'Deleted', fmt: timeFmt },
              ]}
            />
            <h2>Versions</h2>
            <DataTable
              rows={versions}
              testid="versions-table"
              columns={['Version', 'Active', 'Created', 'Size', 'Pages', 'Chunks', 'Type', 'Content hash', 'Run']}
              empty="No versions yet (the first ingestion may still be running)."
              row={(v, i) => (
                <tr key={typeof v.version_id === 'string' ? v.version_id : i} data-testid="version-row" data-active={v.is_active === true ? 'true' : 'false'}>
                  <td className="mono" title={String(v.version_id)}>{shortId(v.version_id)}</td>
                  <td>{v.is_active === true ? <StatusBadge status="active" testid="version-active" /> : <span className="muted">no</span>}</td>
                  <td>{fmtTime(v.created_at)}</td>
                  <td>{fmtBytes(v.byte_size) || (v.byte_size == null ? '—' : safeJson(v.byte_size))}</td>
                  <td>{isNum(v.pages) ? v.pages : v.pages == null ? '—' : safeJson(v.pages)}</td>
                  <td>{isNum(v.chunks) ? v.chunks : v.chunks == null ? '—' : safeJson(v.chunks)}</td>
                  <td>{v.mime == null ? '—' : String(v.mime)}</td>
                  <td className="mono small" title={String(v.content_hash)}>
                    {typeof v.content_hash === 'string' ? `${v.content_hash.slice(0, 12)}…` : '—'}
                  </td>
                  <td>
                    {typeof v.run_id === 'string' ? (
                      <Link href={`/runs/detail/?id=${encodeURIComponent(v.run_id)}`} prefetch={false} className="mono">
                        {shortId(v.run_id)}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              )}
            />
          </>
        )}
      </AsyncState>
    </section>
  );
}

export default function DocumentDetailPage() {
  return (
    <Suspended>
      <DocumentDetail />
    </Suspended>
  );
}
