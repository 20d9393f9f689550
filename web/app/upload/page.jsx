'use client';
import Link from 'next/link';
import { useCallback, useRef, useState } from 'react';
import { TERMINAL } from '../../lib/api';
import { nextKey, rejectUploads, startUploads, useUploads } from '../../lib/uploadStore';
import { fmtBinary, fmtBytes, isPlainObject } from '../../lib/format';
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

export default function UploadPage() {
  const { limits } = useSession();
  const maxBytes = limits && limits.max_upload_bytes > 0 ? limits.max_upload_bytes : null;
  const [pending, setPending] = useState([]); // [{key, file}]
  const items = useUploads();
  const [title, setTitle] = useState('');
  const [dragOver, setDragOver] = useState(false);
  const inputRef = useRef(null);

  const addFiles = useCallback(
    (fileList) => {
      const files = Array.from(fileList || []);
      if (!files.length) return;
      const ok = screen(
        files.map((file) => ({ key: nextKey(), file })),
        maxBytes,
      );
      if (ok.length) setPending((p) => [...p, ...ok]);
    },
    [maxBytes],
  );

  function onUpload(ev) {
    ev.preventDefault();
    if (!pending.length) return;
    // again: the limit may have become known after the files were chosen
    const ok = screen(pending, maxBytes);
    if (ok.length) startUploads(ok, title.trim());
    setPending([]);
    if (inputRef.current) inputRef.current.value = '';
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
            {pending.map(({ key, file }) => (
              <li key={key}>
                <span className="fname">{file.name}</span>{' '}
                <span className="muted">{fmtBytes(file.size) || ''}</span>{' '}
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
          <div className="field">
            <label htmlFor="upload-title">Title (optional)</label>
            <input
              id="upload-title"
              value={title}
              onChange={(e) => setTitle(e.target.value)}
              maxLength={500}
              placeholder="Defaults to the file name"
              data-testid="upload-title"
              aria-describedby="upload-title-help"
            />
            <small id="upload-title-help" className="muted">
              Used for every file of this upload.
            </small>
          </div>
          <button type="submit" disabled={!pending.length} data-testid="upload-submit">
            Upload {pending.length ? `${pending.length} file${pending.length === 1 ? '' : 's'}` : ''}
          </button>
        </div>
      </form>

      {items.length ? (
        <>
          <h2>Uploads</h2>
          <ul className="uploads" data-testid="upload-list">
            {items.map((it) => (
              <UploadItem key={it.key} item={it} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
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
              {typeof stats.chunks === 'number' ? ` · ${stats.chunks} chunks` : ''}
              {typeof stats.pages === 'number' ? ` · ${stats.pages} pages` : ''}
              {stats.activated === false ? ' · stored inactive (a newer upload won)' : ''}
            </span>
          ) : null}
          {runStatus === 'failed' ? (
            <ErrorMessage error={runError || 'The run failed.'} prefix="Run failed" />
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
