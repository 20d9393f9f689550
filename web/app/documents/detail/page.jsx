'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'next/navigation';
import { api, uploadFile } from '../../../lib/api';
import { useRunPoll } from '../../../lib/useRunPoll';
import { fmtBytes, fmtTime, isNum, isPlainObject } from '../../../lib/format';
import { explainError } from '../../../lib/errors';
import { isAdmin, useSession } from '../../../components/Session';
import ErrorMessage from '../../../components/ErrorMessage';
import StatusBadge from '../../../components/StatusBadge';
import DataTable from '../../../components/DataTable';
import AsyncState, { Suspended } from '../../../components/AsyncState';


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
  const [activating, setActivating] = useState(null); // version_id awaiting confirmation
  const [actionError, setActionError] = useState(null);

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

  async function onActivate(v) {
    setActionError(null);
    try {
      await api(`/v1/documents/${encodeURIComponent(id)}/versions/${encodeURIComponent(v)}/activate`, { method: 'POST' });
      setNotice('That version is active again: search now serves its text.');
      setActivating(null);
      await load();
    } catch (e) {
      setActionError(e);
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
  const title = doc && typeof doc.title === 'string' && doc.title ? doc.title : '(untitled)';
  const state = doc && typeof doc.state === 'string' ? doc.state : doc && doc.active_version_id ? 'active' : 'inactive';
  const current = versions.find((v) => v.is_active) || versions[0];

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
            <h1 data-testid="doc-title" className="break">{title}</h1>
            <div className="runhead">
              <StatusBadge status={state} testid="doc-state" />
              {current && state !== 'deleted' ? (
                <a
                  href={`/v1/documents/${encodeURIComponent(id)}/versions/${encodeURIComponent(current.version_id)}/content?download=1`}
                  data-testid="doc-download"
                >
                  Download the original
                </a>
              ) : null}
              {admin && doc.deleted_at == null ? (
                confirming ? (
                  <span className="confirm" role="group" aria-label="Confirm deletion">
                    <span>Delete this document? Search will stop returning it. This cannot be undone.</span>
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
              <p className="notice" role="status" data-testid="doc-notice">
                {notice}
              </p>
            ) : null}
            <ErrorMessage error={deleteError} prefix="Delete failed" />
            <ErrorMessage error={actionError} prefix="Could not activate" />
            {state === 'deleted' ? (
              <p className="notice" data-testid="doc-deleted-note">
                Deleted {fmtTime(doc.deleted_at)}
                {doc.deleted_by_email ? ` by ${doc.deleted_by_email}` : ''}. Its versions are kept for the record but never
                searched. Uploading the same file again makes a new document.
              </p>
            ) : null}
            {state === 'failed' ? (
              <p className="notice">No version of this document could be ingested: see its runs below.</p>
            ) : null}
            {state === 'processing' ? <p className="notice">The first version is still being processed.</p> : null}
            <dl className="fields" data-testid="doc-fields">
              <dt>Source</dt>
              <dd className="break">{doc.source_type === 's3' ? 'S3' : 'Upload'}{typeof doc.source_uri === 'string' ? <> · <code className="break">{doc.source_uri}</code></> : null}</dd>
              <dt>Created</dt>
              <dd>{fmtTime(doc.created_at)}</dd>
              <dt>Updated</dt>
              <dd>{fmtTime(doc.updated_at)}</dd>
            </dl>
            {state !== 'deleted' ? <NewVersion docId={id} onDone={load} /> : null}
            <h2>Version history</h2>
            <DataTable
              rows={versions}
              testid="versions-table"
              columns={['Uploaded', 'By', 'File', 'State', 'Size', 'Pages', '']}
              empty={state === 'processing' ? 'No version yet: the first one is still being processed.' : 'No version was stored.'}
              row={(v, i) => (
                <tr key={typeof v.version_id === 'string' ? v.version_id : i} data-testid="version-row" data-active={v.is_active === true ? 'true' : 'false'} data-version-id={v.version_id}>
                  <td>{fmtTime(v.uploaded_at || v.created_at)}</td>
                  <td className="break">{v.uploaded_by || '—'}</td>
                  <td className="break">{v.original_filename || '—'}</td>
                  <td>
                    {v.is_active === true ? (
                      <StatusBadge status="active" testid="version-active" />
                    ) : (
                      <span className="muted" data-testid="version-reason">{REASON[v.inactive_reason] || 'inactive'}</span>
                    )}
                  </td>
                  <td>{fmtBytes(v.byte_size) || '—'}</td>
                  <td>{isNum(v.pages) ? v.pages : '—'}</td>
                  <td className="actions">
                    {state !== 'deleted' ? (
                      <Link href={`/view/?doc=${encodeURIComponent(id)}&version=${encodeURIComponent(v.version_id)}`} prefetch={false}>
                        Open
                      </Link>
                    ) : null}
                    {typeof v.run_id === 'string' ? (
                      <Link href={`/runs/detail/?id=${encodeURIComponent(v.run_id)}`} prefetch={false}>
                        Run
                      </Link>
                    ) : null}
                    {admin && state !== 'deleted' && !v.is_active && v.run_status === 'succeeded' ? (
                      activating === v.version_id ? (
                        <span className="confirm" role="group" aria-label="Confirm activation">
                          <span>Serve this older version instead of the current one?</span>
                          <button type="button" onClick={() => onActivate(v.version_id)} data-testid="version-activate-confirm">
                            Yes, make it active
                          </button>
                          <button type="button" className="secondary" onClick={() => setActivating(null)}>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <button type="button" className="secondary" onClick={() => setActivating(v.version_id)} data-testid="version-activate">
                          Make active
                        </button>
                      )
                    ) : null}
                  </td>
                </tr>
              )}
            />
            <Runs runs={Array.isArray(doc.runs) ? doc.runs : []} />
          </>
        )}
      </AsyncState>
    </section>
  );
}

const REASON = {
  superseded: 'replaced by a newer version',
  finished_late: 'finished after a newer upload',
  deleted: 'deleted',
};

/** The document's ingestion runs, newest first, as a short list (not raw JSON). */
function Runs({ runs }) {
  const list = runs.filter((r) => r && typeof r === 'object');
  if (!list.length) return null;
  return (
    <>
      <h2>Processing history</h2>
      <ul className="plainlist" data-testid="doc-runs">
        {list.map((r) => (
          <li key={r.run_id}>
            <StatusBadge status={r.status} /> {fmtTime(r.created_at)}{' '}
            <Link href={`/runs/detail/?id=${encodeURIComponent(r.run_id)}`} prefetch={false}>
              details
            </Link>
            {r.error ? <span className="muted"> · {explainError(r.error)?.title}</span> : null}
          </li>
        ))}
      </ul>
    </>
  );
}

/** "Upload new version": the file becomes the document's next version (doc_id sent). */
function NewVersion({ docId, onDone }) {
  const [file, setFile] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [runId, setRunId] = useState(null);
  const [pct, setPct] = useState(0);
  const { run } = useRunPoll(runId, { intervalMs: 1000 });
  const status = run && typeof run.status === 'string' ? run.status : runId ? 'queued' : null;

  useEffect(() => {
    if (status === 'succeeded' || status === 'failed' || status === 'skipped') onDone();
  }, [status, onDone]);

  async function onSubmit(ev) {
    ev.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setRunId(null);
    try {
      const { data } = await uploadFile(file, { docId, onProgress: (l, t) => setPct(t ? Math.round((l / t) * 100) : 0) })
        .promise;
      if (data && typeof data.run_id === 'string') setRunId(data.run_id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="newversion" aria-label="Upload a new version" data-testid="new-version-form">
      <label htmlFor="new-version-file">Upload new version</label>
      <input id="new-version-file" type="file" onChange={(e) => setFile(e.target.files && e.target.files[0])} data-testid="new-version-file" />
      <button type="submit" disabled={!file || busy} data-testid="new-version-submit">
        {busy ? `Sending… ${pct}%` : 'Upload as the new version'}
      </button>
      {status ? (
        <span data-testid="new-version-status" data-status={status}>
          <StatusBadge status={status} /> {status === 'succeeded' ? 'The new version is now served.' : null}
          {status === 'skipped' ? 'This is already the current content.' : null}
          {status === 'failed' ? explainError(run && run.error)?.title : null}
        </span>
      ) : null}
      <ErrorMessage error={error} prefix="Upload failed" />
    </form>
  );
}

export default function DocumentDetailPage() {
  return (
    <Suspended>
      <DocumentDetail />
    </Suspended>
  );
}
