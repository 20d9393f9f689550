'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
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
const docLink = (v) =>
  typeof v === 'string' ? (
    <Link href={`/documents/detail/?id=${encodeURIComponent(v)}`} prefetch={false} className="mono">
      {v}
    </Link>
  ) : null;

const CONFIG_FIELDS = [
  { key: 'title', label: 'Title', fmt: str },
  { key: 'original_filename', label: 'Original file name', fmt: str },
  { key: 'content_type', label: 'Content type', fmt: str },
  { key: 'source_type', label: 'Source type', fmt: str },
  { key: 'size_bytes', label: 'Size', fmt: (v) => (isNum(v) ? `${fmtBytes(v)} (${v.toLocaleString()} bytes)` : null) },
  { key: 'sha256', label: 'SHA-256', fmt: code },
  { key: 'upload_key', label: 'Upload key', fmt: code },
  { key: 'created_by_user_id', label: 'Created by (user id)', fmt: code },
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
  { key: 'version_id', label: 'Version id', fmt: code },
];

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
      <h1>
        Run <span className="mono small">{id}</span>
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
            </div>
            {r.error != null && r.error !== '' ? (
              <div className="error" role="alert" data-testid="run-error">
                <strong>Error: </strong>
                {typeof r.error === 'string' ? r.error : safeJson(r.error)}
              </div>
            ) : null}

            <h2>Run</h2>
            <Fields
              obj={r}
              testid="run-fields"
              known={[
                { key: 'run_id', label: 'Run id', fmt: code },
                { key: 'doc_id', label: 'Document', fmt: docLink },
                { key: 'created_at', label: 'Created', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'started_at', label: 'Started', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'finished_at', label: 'Finished', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
                { key: 'updated_at', label: 'Last update', fmt: (v) => (typeof v === 'string' ? fmtTime(v) : null) },
              ]}
              skip={['status', 'error', 'config', 'stats']}
            />

            <h2>Configuration</h2>
            <Fields obj={r.config} known={CONFIG_FIELDS} testid="run-config" />

            <h2>Statistics</h2>
            <Fields obj={r.stats} known={STATS_FIELDS} skip={['durations_ms']} testid="run-stats" empty="no statistics yet" />

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
