'use client';
import Link from 'next/link';
import { useState } from 'react';
import { useRouter, useSearchParams } from 'next/navigation';
import { api } from '../../../lib/api';
import { explainError, retryHelps } from '../../../lib/errors';
import { isAdmin, useSession } from '../../../components/Session';
import { useRunPoll } from '../../../lib/useRunPoll';
import { TERMINAL } from '../../../lib/api';
import { fmtBytes, fmtMs, fmtTime, isNum, isPlainObject, safeJson } from '../../../lib/format';
import StatusBadge from '../../../components/StatusBadge';
import ErrorMessage from '../../../components/ErrorMessage';
import Fields from '../../../components/Fields';
import RunProgress from '../../../components/RunProgress';
import AsyncState, { Suspended } from '../../../components/AsyncState';

const str = (v) => (typeof v === 'string' ? v : null);
const num = (v) => (isNum(v) ? v.toLocaleString() : null);
const bool = (v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : null);
const code = (v) => (typeof v === 'string' ? <code className="break">{v}</code> : null);

const CONFIG_FIELDS = [
  { key: 'title', label: 'Title', fmt: str },
  { key: 'original_filename', label: 'Original file name', fmt: str },
  { key: 'content_type', label: 'Content type', fmt: str },
  { key: 'source_type', label: 'Source type', fmt: str },
  { key: 'size_bytes', label: 'Size', fmt: (v) => (isNum(v) ? `${fmtBytes(v)} (${v.toLocaleString()} bytes)` : null) },
  { key: 'republished', label: 'Re-published by the crash guard', fmt: (v) => (isNum(v) ? `${v} time${v === 1 ? '' : 's'}` : null) },
];

const STATS_FIELDS = [
  { key: 'progress', label: 'Progress', fmt: (v) => (isPlainObject(v) ? <RunProgress progress={v} /> : null) },
  { key: 'attempt', label: 'Attempt', fmt: num },
  { key: 'pages', label: 'Pages', fmt: num },
  { key: 'chars', label: 'Characters', fmt: num },
  { key: 'chunks', label: 'Chunks', fmt: num },
  { key: 'embedding_model', label: 'Embedding model', fmt: str },
  { key: 'embedding_dim', label: 'Embedding dimension', fmt: num },
  { key: 'activated', label: 'Activated (is the active version)', fmt: bool },
];
// Internals users need not read (ids, hashes, the store's key, the worker's bookkeeping).
const CONFIG_SKIP = ['sha256', 'upload_key', 'created_by_user_id', 'retry_of', 'retried_by_user_id'];
const STATS_SKIP = ['durations_ms', 'version_id', 'last_error', 'takeover_from', 'mime', 'byte_size', 'reason',
  'duplicate_of_version'];

/** What went wrong in words, what to do, and Retry for the uploader or an admin. */
function Failure({ run }) {
  const router = useRouter();
  const { user } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const e = explainError(run.error);
  if (!e) return null;
  const mine = user && isPlainObject(run.config) && run.config.created_by_user_id === user.user_id;
  const canRetry = run.status === 'failed' && (isAdmin(user) || mine);
  async function onRetry() {
    setBusy(true);
    setError(null);
    try {
      const d = await api(`/v1/ingestion-runs/${encodeURIComponent(run.run_id)}/retry`, { method: 'POST' });
      if (d && typeof d.run_id === 'string') router.push(`/runs/detail/?id=${encodeURIComponent(d.run_id)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <div className="explain" role="alert" data-testid="run-error" data-code={e.code} data-kind={e.key}>
      <p>
        <strong data-testid="run-error-title">{e.title}.</strong> {e.what}
      </p>
      <p className="muted small">
        Technical detail: <code className="break">{String(run.error)}</code>
      </p>
      {canRetry ? (
        <button type="button" onClick={onRetry} disabled={busy} data-testid="run-retry" className={retryHelps(run.error) ? '' : 'secondary'}>
          {busy ? 'Retrying…' : 'Retry'}
        </button>
      ) : null}
      <ErrorMessage error={error} prefix="Retry failed" />
    </div>
  );
}

const STAGES = ['extract', 'chunk', 'embed', 'write', 'total'];

function Durations({ value }) {
  if (value == null) return <p className="muted">no timings yet</p>;
  if (!isPlainObject(value)) return <code>{safeJson(value)}</code>;
  const keys = [...STAGES.filter((k) => k in value), ...Object.keys(value).filter((k) => !STAGES.includes(k))];
  if (!keys.length) return <p className="muted">no timings yet</p>;
  const nums = keys.map((k) => value[k]).filter(isNum);
  const max = isNum(value.total) && value.total > 0 ? value.total : Math.max(1, ...nums);
  return (
    <table className="durations" data-testid="run-durations">
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col">Time</th>
          <th scope="col">
            <span className="sr-only">Share of total</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => {
          const v = value[k];
          const ok = isNum(v);
          return (
            <tr key={k} data-stage={k}>
              <th scope="row">{k}</th>
              <td>{ok ? fmtMs(v) : <code>{safeJson(v)}</code>}</td>
              <td className="barcell">
                {ok && k !== 'total' ? (
                  <span className="hbar" style={{ width: `${Math.max(1, Math.min(100, (v / max) * 100))}%` }} />
                ) : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RunDetail() {
  const params = useSearchParams();
  const id = params.get('id');
  const { run, error, polling } = useRunPoll(id, { intervalMs: 1000 });

  if (!id) {
    return (
      <section>
        <h1>Run</h1>
        <ErrorMessage error="No run id given." />
        <Link href="/runs/" prefetch={false}>
          Back to runs
        </Link>
      </section>
    );
  }
  const r = isPlainObject(run) ? run : null;
  const stats = r && isPlainObject(r.stats) ? r.stats : null;
  const status = r ? r.status : null;
  const terminal = TERMINAL.has(status);

  return (
    <section data-testid="run-detail">
      <p>
        <Link href="/runs/" prefetch={false}>
          ← All runs
        </Link>
      </p>
      <h1 className="break" data-testid="run-title">
        {r && isPlainObject(r.config) && (r.config.original_filename || r.config.title)
          ? r.config.original_filename || r.config.title
          : 'Processing run'}
      </h1>
      <AsyncState data={r} error={error}>
        {() => (
          <>
            <div className="runhead">
              <StatusBadge status={status} testid="run-status" />
              {polling && !terminal ? (
                <span className="muted" aria-live="polite">
                  live — refreshing every second
                </span>
              ) : null}
              {status === 'running' && stats ? <RunProgress progress={stats.progress} /> : null}
              {r.uploaded_by ? <span className="muted">uploaded by {r.uploaded_by}</span> : null}
              {r.config && r.config.retry_of ? (
                <Link href={`/runs/detail/?id=${encodeURIComponent(r.config.retry_of)}`} prefetch={false}>
                  a retry of this earlier run
                </Link>
              ) : null}
            </div>
            {status === 'failed' || (r.error != null && r.error !== '') ? <Failure run={r} /> : null}
            {status !== 'failed' && stats && stats.last_error ? (
              <p className="notice">Retrying after: {explainError(stats.last_error)?.title}</p>
            ) : null}

            <h2>Run</h2>
            <Fields
              obj={r}
              testid="run-fields"
              known={[
                { key: 'document_title', label: 'Document', fmt: (v) => (typeof v === 'string' ? <Link href={`/documents/detail/?id=${encodeURIComponent(r.doc_id)}`} prefetch={false} className="break">{v || 'document'}</Link> : null) },
                { key: 'created_at', label: 'Created', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'started_at', label: 'Started', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'finished_at', label: 'Finished', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'updated_at', label: 'Last update', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
              ]}
              skip={['status', 'error', 'config', 'stats', 'run_id', 'doc_id', 'uploaded_by', 'content_hash', 'attempt']}
            />

            <h2>Configuration</h2>
            <Fields obj={r.config} known={CONFIG_FIELDS} skip={CONFIG_SKIP} testid="run-config" />

            <h2>Statistics</h2>
            <Fields obj={r.stats} known={STATS_FIELDS} skip={STATS_SKIP} testid="run-stats" empty="no statistics yet" />

            <h2>Timings</h2>
            <Durations value={stats ? stats.durations_ms : r.stats == null ? null : undefined} />
          </>
        )}
      </AsyncState>
    </section>
  );
}

export default function RunDetailPage() {
  return (
    <Suspended>
      <RunDetail />
    </Suspended>
  );
}
