'use client';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { TERMINAL, api } from '../../lib/api';
import { cancelUpload, clearFinished, nextKey, rejectUploads, sending, startUploads, useUploads } from '../../lib/uploadStore';
import { fmtBinary, fmtBytes, fmtTime, isPlainObject } from '../../lib/format';
import { explainError } from '../../lib/errors';
import { useSession } from '../../components/Session';
import { useRunPoll } from '../../lib/useRunPoll';
import StatusBadge from '../../components/StatusBadge';
import ErrorMessage from '../../components/ErrorMessage';
import RunProgress from '../../components/RunProgress';

/**
 * Why a file is refused before sending, or null. The server refuses the same files
 * (413 over MAX_UPLOAD_BYTES, 400 when empty), but a large body is cut off while the
 * browser is still sending, which the browser often reports as a network error only.
 */
function refusal(file, maxBytes) {
  if (file.size === 0) return { refused: 'empty', error: 'empty file' };
  if (maxBytes && file.size > maxBytes) {
    let size = fmtBinary(file.size);
    let max = fmtBinary(maxBytes);
    if (size === max) {
      // rounded alike (just over the limit): exact byte counts
      size = `${file.size} bytes`;
      max = `${maxBytes} bytes`;
    }
    return { refused: 'too_large', error: `too large: ${size}, the limit is ${max}` };
  }
  return null;
}

/** Split [{key, file}] into the files to send and the refused ones (listed at once). */
function screen(entries, maxBytes) {
  const ok = [];
  const refused = [];
  for (const e of entries) {
    const why = refusal(e.file, maxBytes);
    if (why) refused.push({ ...e, ...why });
    else ok.push(e);
  }
  rejectUploads(refused);
  return ok;
}

/** The active document whose title is this file name (any case), or null: the replace prompt. */
async function sameName(name) {
  try {
    const d = await api(`/v1/documents?limit=5&title=${encodeURIComponent(name)}`);
    const docs = d && Array.isArray(d.documents) ? d.documents : [];
    return docs.find((x) => x && typeof x.title === 'string' && x.title.toLowerCase() === name.toLowerCase()) || null;
  } catch {
    return null;
  }
}

export default function UploadPage() {
  const { limits } = useSession();
  const maxBytes = limits && limits.max_upload_bytes > 0 ? limits.max_upload_bytes : null;
  const [pending, setPending] = useState([]); // [{key, file, title}]
  const [asking, setAsking] = useState([]); // [{key, file, title, doc}] waiting for "replace or keep both"
  const items = useUploads();
  const [dragOver, setDragOver] = useState(false);
  const inputRef = useRef(null);

  // Leaving while bytes are still being sent would drop them silently: ask first.
  useEffect(() => {
    const onLeave = (ev) => {
      if (!sending()) return undefined;
      ev.preventDefault();
      ev.returnValue = '';
      return '';
    };
    window.addEventListener('beforeunload', onLeave);
    return () => window.removeEventListener('beforeunload', onLeave);
  }, []);

  const addFiles = useCallback(
    (fileList) => {
      const files = Array.from(fileList || []);
      if (!files.length) return;
      const ok = screen(
        files.map((file) => ({ key: nextKey(), file, title: '' })),
        maxBytes,
      );
      if (ok.length) setPending((p) => [...p, ...ok]);
    },
    [maxBytes],
  );

  async function onUpload(ev) {
    ev.preventDefault();
    if (!pending.length) return;
    // again: the limit may have become known after the files were chosen
    const ok = screen(pending, maxBytes);
    setPending([]);
    if (inputRef.current) inputRef.current.value = '';
    const found = await Promise.all(ok.map((e) => sameName(e.title.trim() || e.file.name)));
    const go = ok.filter((_, i) => !found[i]).map((e) => ({ ...e, title: e.title.trim() }));
    if (go.length) startUploads(go);
    setAsking((a) => [...a, ...ok.filter((_, i) => found[i]).map((e, j) => ({ ...e, doc: found.filter(Boolean)[j] }))]);
  }

  function decide(entry, replace) {
    setAsking((a) => a.filter((x) => x.key !== entry.key));
    startUploads([{ key: entry.key, file: entry.file, title: entry.title.trim(), docId: replace ? entry.doc.doc_id : null }]);
  }

  function onDrop(ev) {
    ev.preventDefault();
    setDragOver(false);
    if (ev.dataTransfer && ev.dataTransfer.files) addFiles(ev.dataTransfer.files);
  }

  return (
    <section>
      <h1>Upload documents</h1>
      <form onSubmit={onUpload} className="upload-form" aria-label="Upload documents">
        <div
          className={`dropzone${dragOver ? ' over' : ''}`}
          data-testid="dropzone"
          onDragEnter={(e) => {
            e.preventDefault();
            setDragOver(true);
          }}
          onDragOver={(e) => {
            e.preventDefault();
            if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
            setDragOver(true);
          }}
          onDragLeave={() => setDragOver(false)}
          onDrop={onDrop}
        >
          <p>
            <strong>Drag and drop files here</strong>
            <br />
            <span className="muted">PDF, Word (DOCX), HTML, Markdown or plain text</span>
            {maxBytes ? (
              <>
                <br />
                <span className="muted" data-testid="upload-limit" data-max-bytes={maxBytes}>
                  up to {fmtBinary(maxBytes)} per file
                </span>
              </>
            ) : null}
          </p>
          <label htmlFor="upload-files" className="filepick">
            …or choose files
          </label>
          <input
            id="upload-files"
            ref={inputRef}
            type="file"
            multiple
            data-testid="file-input"
            onChange={(e) => addFiles(e.target.files)}
          />
        </div>

        {pending.length ? (
          <ul className="pending" aria-label="Files to upload" data-testid="pending-list">
            {pending.map(({ key, file, title }) => (
              <li key={key}>
                <span className="fname break">{file.name}</span>{' '}
                <span className="muted">{fmtBytes(file.size) || ''}</span>{' '}
                <input
                  aria-label={`Title for ${file.name}`}
                  placeholder="Title (defaults to the file name)"
                  value={title}
                  maxLength={500}
                  data-testid="pending-title"
                  onChange={(e) => setPending((p) => p.map((x) => (x.key === key ? { ...x, title: e.target.value } : x)))}
                />{' '}
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove ${file.name}`}
                  onClick={() => setPending((p) => p.filter((x) => x.key !== key))}
                >
                  remove
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No files chosen yet.</p>
        )}

        <div className="row">
          <button type="submit" disabled={!pending.length} data-testid="upload-submit">
            Upload {pending.length ? `${pending.length} file${pending.length === 1 ? '' : 's'}` : ''}
          </button>
        </div>
      </form>

      {asking.map((e) => (
        <div key={e.key} className="confirm-box" role="group" aria-label={`${e.file.name} already exists`} data-testid="replace-prompt">
          <p>
            A document called <strong className="break">{e.doc.title}</strong> already exists. Is{' '}
            <span className="break">{e.file.name}</span> a new version of it?
          </p>
          <button type="button" onClick={() => decide(e, true)} data-testid="replace-yes">
            Replace it (new version)
          </button>{' '}
          <button type="button" className="secondary" onClick={() => decide(e, false)} data-testid="replace-no">
            Keep both
          </button>
        </div>
      ))}

      {items.length ? (
        <>
          <h2>This session</h2>
          <Summary items={items} />
          <ul className="uploads" data-testid="upload-list">
            {items.map((it) => (
              <UploadItem key={it.key} item={it} />
            ))}
          </ul>
        </>
      ) : null}
      <RecentUploads />
    </section>
  );
}

/** Batch summary: sent, done, failed, skipped, cancelled, and a Clear of the finished ones. */
function Summary({ items }) {
  const c = { sending: 0, sent: 0, failed: 0, cancelled: 0 };
  for (const it of items) {
    if (it.phase === 'waiting' || it.phase === 'uploading') c.sending += 1;
    else if (it.phase === 'sent') c.sent += 1;
    else if (it.phase === 'cancelled') c.cancelled += 1;
    else c.failed += 1;
  }
  return (
    <p className="muted" data-testid="upload-summary" data-sending={c.sending} data-sent={c.sent} data-failed={c.failed} data-cancelled={c.cancelled}>
      {c.sending ? `${c.sending} sending · ` : ''}
      {c.sent} sent · {c.failed} refused{c.cancelled ? ` · ${c.cancelled} cancelled` : ''}{' '}
      <button type="button" className="link" onClick={() => clearFinished((it) => it.phase !== 'waiting' && it.phase !== 'uploading')} data-testid="upload-clear">
        clear this list
      </button>
    </p>
  );
}

/** This user's recent uploads from the server (runs, mine=true): they survive a reload. */
function RecentUploads() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let off = false;
    let timer = null;
    const load = async () => {
      try {
        const d = await api('/v1/ingestion-runs?mine=true&limit=20');
        if (off) return;
        setData(d);
        setError(null);
        const live = d && Array.isArray(d.runs) && d.runs.some((r) => !TERMINAL.has(r.status));
        timer = setTimeout(load, live ? 1500 : 5000);
      } catch (e) {
        if (!off) {
          setError(e);
          timer = setTimeout(load, 5000);
        }
      }
    };
    load();
    return () => {
      off = true;
      clearTimeout(timer);
    };
  }, []);
  const runs = data && Array.isArray(data.runs) ? data.runs.filter(isPlainObject) : [];
  const count = (s) => runs.filter((r) => r.status === s).length;
  return (
    <>
      <h2>Your recent uploads</h2>
      <ErrorMessage error={error} prefix="Could not load your uploads" />
      {data ? (
        <p className="muted" data-testid="recent-summary">
          {count('succeeded')} done · {count('queued') + count('running')} in progress · {count('failed')} failed · {count('skipped')} skipped (already there)
        </p>
      ) : null}
      {data && !runs.length ? <p className="muted">Nothing uploaded yet.</p> : null}
      <ul className="uploads" data-testid="recent-uploads">
        {runs.map((r) => {
          const name = (r.config && (r.config.original_filename || r.config.title)) || 'upload';
          const err = explainError(r.error);
          return (
            <li key={r.run_id} className="upload-item" data-testid="recent-upload" data-status={r.status} data-run-id={r.run_id}>
              <div className="upload-head">
                <Link href={`/runs/detail/?id=${encodeURIComponent(r.run_id)}`} prefetch={false} className="fname break">
                  {name}
                </Link>
                <StatusBadge status={r.status} />
                <span className="muted">{fmtTime(r.created_at)}</span>
              </div>
              {r.status === 'running' && r.stats ? <RunProgress progress={r.stats.progress} /> : null}
              {err ? <p className="muted small">{err.title}</p> : null}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function UploadItem({ item }) {
  const needsPoll =
    item.phase === 'sent' && !!item.runId && !TERMINAL.has(item.initialStatus || '');
  const { run, error: pollError } = useRunPoll(needsPoll ? item.runId : null, { intervalMs: 1000 });

  const total = item.total || item.file.size || 0;
  const pct = total > 0 ? Math.min(100, Math.round((item.loaded / total) * 100)) : 0;

  let state = item.phase; // waiting | uploading | sent | error
  let runStatus = null;
  if (item.phase === 'sent') {
    runStatus = (run && typeof run.status === 'string' && run.status) || item.initialStatus || 'queued';
    state = runStatus;
  }
  const runError = run && run.error != null ? String(run.error) : null;
  const stats = run && isPlainObject(run.stats) ? run.stats : {};
  const skipped = runStatus === 'skipped';

  return (
    <li
      className="upload-item"
      data-testid="upload-item"
      data-state={state}
      data-run-id={item.runId || ''}
      data-doc-id={item.docId || ''}
      data-refused={item.refused || undefined}
    >
      <div className="upload-head">
        <span className="fname">{item.file.name}</span>
        <span className="muted">{fmtBytes(item.file.size) || ''}</span>
        {runStatus ? <StatusBadge status={runStatus} testid="upload-status" /> : null}
        {item.phase === 'waiting' ? <span className="muted">waiting…</span> : null}
        {item.phase === 'uploading' ? <span className="muted">uploading…</span> : null}
        {item.phase === 'cancelled' ? <span className="muted">cancelled</span> : null}
        {item.phase === 'uploading' || item.phase === 'waiting' ? (
          <button type="button" className="link" onClick={() => cancelUpload(item.key)} data-testid="upload-cancel">
            cancel
          </button>
        ) : null}
        {item.phase === 'error' ? <StatusBadge status="failed" testid="upload-status" /> : null}
      </div>

      {item.phase === 'uploading' || item.phase === 'waiting' || item.phase === 'sent' ? (
        <div className="byteprogress">
          <progress
            max={100}
            value={pct}
            aria-label={`Upload of ${item.file.name}`}
            data-testid="upload-progress"
          />
          <span className="muted">
            {pct}% {item.phase === 'uploading' ? `(${fmtBytes(item.loaded) || 0} of ${fmtBytes(total) || '?'})` : item.phase === 'sent' ? 'sent' : ''}
          </span>
        </div>
      ) : null}

      {item.phase === 'error' ? <ErrorMessage error={item.error} prefix="Upload failed" /> : null}

      {item.phase === 'sent' ? (
        <div className="upload-run">
          {skipped ? (
            <p data-testid="upload-skipped">
              skipped: {item.reason || 'duplicate content'}
              {item.docId ? (
                <>
                  {' — '}
                  <Link href={`/documents/detail/?id=${encodeURIComponent(item.docId)}`} prefetch={false} data-testid="upload-doc-link">
                    view the existing document
                  </Link>
                </>
              ) : null}
            </p>
          ) : null}
          {!skipped && item.reason ? <p className="muted">{item.reason}: following that run.</p> : null}
          {runStatus === 'running' ? <RunProgress progress={stats.progress} /> : null}
          {runStatus === 'queued' ? <span className="muted">waiting for a worker…</span> : null}
          {runStatus === 'succeeded' ? (
            <span>
              ingested
              {typeof stats.pages === 'number' ? ` · ${stats.pages} ${stats.pages === 1 ? 'page' : 'pages'}` : ''}
              {typeof stats.chunks === 'number' ? ` · ${stats.chunks} ${stats.chunks === 1 ? 'passage' : 'passages'}` : ''}
              {stats.activated === false ? ' · stored inactive (a newer upload won)' : ''}
            </span>
          ) : null}
          {runStatus === 'failed' ? (
            <ErrorMessage error={runError ? `${explainError(runError).title}. ${explainError(runError).what}` : 'The run failed.'} prefix="Failed" />
          ) : null}
          <ErrorMessage error={pollError} prefix="Could not refresh the status" />
          <span className="links">
            {item.runId ? (
              <Link href={`/runs/detail/?id=${encodeURIComponent(item.runId)}`} prefetch={false} data-testid="upload-run-link">
                run details
              </Link>
            ) : null}
            {item.docId && !skipped ? (
              <Link href={`/documents/detail/?id=${encodeURIComponent(item.docId)}`} prefetch={false}>
                document
              </Link>
            ) : null}
          </span>
        </div>
      ) : null}
      {item.phase === 'error' && item.runId ? (
        <Link href={`/runs/detail/?id=${encodeURIComponent(item.runId)}`} prefetch={false}>
          run details
        </Link>
      ) : null}
    </li>
  );
}
