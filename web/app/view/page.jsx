'use client';
// The citation viewer: /view/?doc=DOC&version=VER&chunk=CHUNK&page=N
// PDF: the original file (GET .../content) rendered in the browser by pdf.js (served
// by core-api from /pdfjs/, never a CDN) at the cited page, with the passage's words
// highlighted on pdf.js's text layer. Other types: the extracted text (GET .../chunks)
// with the cited chunk highlighted and scrolled into view.
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'next/navigation';
import { api } from '../../lib/api';
import { fmtBytes, isPlainObject } from '../../lib/format';
import ErrorMessage from '../../components/ErrorMessage';
import { Loading, Suspended } from '../../components/AsyncState';

const PDF_MIME = 'application/pdf';

let pdfjsPromise = null;
/** pdf.js as a module script from our own origin; it sets globalThis.pdfjsLib. */
function loadPdfjs() {
  if (!pdfjsPromise) {
    pdfjsPromise = new Promise((resolve, reject) => {
      if (window.pdfjsLib && window.pdfjsLib.getDocument) {
        resolve(window.pdfjsLib);
        return;
      }
      const s = document.createElement('script');
      s.type = 'module';
      s.src = '/pdfjs/pdf.min.mjs';
      s.onload = () => {
        const lib = window.pdfjsLib;
        if (!lib || !lib.getDocument) {
          reject(new Error('The PDF viewer did not load.'));
          return;
        }
        lib.GlobalWorkerOptions.workerSrc = '/pdfjs/pdf.worker.min.mjs';
        resolve(lib);
      };
      s.onerror = () => reject(new Error('The PDF viewer could not be loaded.'));
      document.head.appendChild(s);
    });
    pdfjsPromise.catch(() => {
      pdfjsPromise = null;
    });
  }
  return pdfjsPromise;
}

const norm = (s) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** Mark the text-layer spans whose words belong to the passage. Returns how many. */
function highlightSpans(container, passage) {
  const words = new Set(norm(passage).split(' ').filter((w) => w.length > 2));
  if (!words.size) return 0;
  let n = 0;
  for (const span of container.querySelectorAll('span')) {
    const t = norm(span.textContent || '');
    if (!t) continue;
    const ws = t.split(' ').filter((w) => w.length > 2);
    if (!ws.length) continue;
    const hit = ws.filter((w) => words.has(w)).length;
    if (hit / ws.length >= 0.6) {
      span.classList.add('hl');
      span.setAttribute('data-testid', 'pdf-highlight');
      n += 1;
    }
  }
  return n;
}

function PdfView({ url, page, passage, onPages }) {
  const canvasRef = useRef(null);
  const textRef = useRef(null);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(null);
  const [label, setLabel] = useState(null);
  const [hl, setHl] = useState(0);
  const [busy, setBusy] = useState(true);

  useEffect(() => {
    let cancelled = false;
    let doc = null;
    (async () => {
      setBusy(true);
      setError(null);
      try {
        const lib = await loadPdfjs();
        doc = await lib.getDocument({ url, withCredentials: true, isEvalSupported: false }).promise;
        if (cancelled) return;
        onPages(doc.numPages);
        const n = Math.min(Math.max(1, page || 1), doc.numPages);
        const pg = await doc.getPage(n);
        const labels = await doc.getPageLabels().catch(() => null);
        const box = canvasRef.current.parentElement;
        const base = pg.getViewport({ scale: 1 });
        const scale = Math.min(2, Math.max(0.4, (box.clientWidth || 800) / base.width));
        const vp = pg.getViewport({ scale });
        const canvas = canvasRef.current;
        const ratio = window.devicePixelRatio || 1;
        canvas.width = Math.floor(vp.width * ratio);
        canvas.height = Math.floor(vp.height * ratio);
        canvas.style.width = `${Math.floor(vp.width)}px`;
        canvas.style.height = `${Math.floor(vp.height)}px`;
        const ctx = canvas.getContext('2d');
        await pg.render({ canvasContext: ctx, viewport: vp, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null })
          .promise;
        if (cancelled) return;
        const tl = textRef.current;
        tl.replaceChildren();
        tl.style.width = `${Math.floor(vp.width)}px`;
        tl.style.height = `${Math.floor(vp.height)}px`;
        tl.style.setProperty('--scale-factor', String(scale));
        const layer = new lib.TextLayer({ textContentSource: pg.streamTextContent(), container: tl, viewport: vp });
        await layer.render();
        if (cancelled) return;
        setHl(highlightSpans(tl, passage || ''));
        setShown(n);
        setLabel(labels && labels[n - 1] && labels[n - 1] !== String(n) ? labels[n - 1] : null);
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      } finally {
        if (!cancelled) setBusy(false);
      }
    })();
    return () => {
      cancelled = true;
      if (doc) doc.destroy();
    };
  }, [url, page, passage, onPages]);

  return (
    <div className="pdfview">
      <ErrorMessage error={error} prefix="Could not show the PDF" />
      {busy ? <Loading /> : null}
      {shown ? (
        <p className="muted" data-testid="pdf-page" data-page={shown} data-highlights={hl}>
          Page {shown}
          {label ? <span data-testid="pdf-page-label"> (printed page {label})</span> : null}
          {hl ? ' · the cited passage is highlighted' : ' · the passage could not be located on this page'}
        </p>
      ) : null}
      <div className="pdfpage">
        <canvas ref={canvasRef} data-testid="pdf-canvas" />
        <div ref={textRef} className="textLayer" />
      </div>
    </div>
  );
}

/** The extracted text, chunk by chunk (overlaps cut by their offsets), the cited one marked. */
function TextView({ docId, versionId, chunkId }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const markRef = useRef(null);

  useEffect(() => {
    let off = false;
    api(`/v1/documents/${encodeURIComponent(docId)}/versions/${encodeURIComponent(versionId)}/chunks`)
      .then((d) => !off && setData(isPlainObject(d) ? d : { chunks: [] }))
      .catch((e) => !off && setError(e));
    return () => {
      off = true;
    };
  }, [docId, versionId]);

  useEffect(() => {
    if (data && markRef.current) markRef.current.scrollIntoView({ block: 'center' });
  }, [data]);

  if (error) return <ErrorMessage error={error} prefix="Could not load the text" />;
  if (!data) return <Loading />;
  const chunks = Array.isArray(data.chunks) ? data.chunks : [];
  let end = 0;
  return (
    <div className="textview" data-testid="text-view">
      {chunks.map((c) => {
        const start = typeof c.char_start === 'number' ? c.char_start : end;
        const skip = Math.max(0, end - start);
        const text = typeof c.text === 'string' ? c.text : '';
        end = Math.max(end, typeof c.char_end === 'number' ? c.char_end : start + text.length);
        const cited = c.chunk_id === chunkId;
        if (cited) {
          return (
            <mark key={c.chunk_id} ref={markRef} className="cited" data-testid="text-highlight">
              {text}
            </mark>
          );
        }
        return <span key={c.chunk_id}>{[...text].slice(skip).join('')}</span>;
      })}
      {data.truncated ? <p className="muted">(The text is cut here: the document is very long.)</p> : null}
    </div>
  );
}

function Viewer() {
  const params = useSearchParams();
  const docId = params.get('doc');
  const versionId = params.get('version');
  const chunkId = params.get('chunk');
  const page = Number(params.get('page')) || 1;
  const [doc, setDoc] = useState(null);
  const [chunk, setChunk] = useState(null);
  const [error, setError] = useState(null);
  const [pages, setPages] = useState(null);

  useEffect(() => {
    if (!docId || !versionId) return;
    let off = false;
    api(`/v1/documents/${encodeURIComponent(docId)}`)
      .then((d) => !off && setDoc(isPlainObject(d) ? d : {}))
      .catch((e) => !off && setError(e));
    if (chunkId) {
      api(`/v1/documents/${encodeURIComponent(docId)}/versions/${encodeURIComponent(versionId)}/chunks?chunk_id=${encodeURIComponent(chunkId)}`)
        .then((d) => !off && setChunk(isPlainObject(d) && Array.isArray(d.chunks) && d.chunks[0] ? d.chunks[0] : {}))
        .catch(() => !off && setChunk({}));
    } else setChunk({});
    return () => {
      off = true;
    };
  }, [docId, versionId, chunkId]);

  if (!docId || !versionId) return <ErrorMessage error="No document or version given." />;
  const version = doc && Array.isArray(doc.versions) ? doc.versions.find((v) => v && v.version_id === versionId) : null;
  const base = `/v1/documents/${encodeURIComponent(docId)}/versions/${encodeURIComponent(versionId)}/content`;
  const go = (n) => {
    const q = new URLSearchParams(params.toString());
    q.set('page', String(n));
    window.history.replaceState(null, '', `?${q.toString()}`);
  };

  return (
    <section data-testid="viewer">
      <p className="backrow">
        <button type="button" className="link" onClick={() => window.history.back()} data-testid="viewer-back">
          ← Back
        </button>
        <Link href={`/documents/detail/?id=${encodeURIComponent(docId)}`} prefetch={false}>
          Document page
        </Link>
        <a href={`${base}?download=1`} data-testid="viewer-download">
          Download the original
        </a>
      </p>
      <ErrorMessage error={error} />
      {doc ? <h1 className="break">{doc.title || 'Document'}</h1> : <Loading />}
      {version ? (
        <p className="muted">
          {version.original_filename ? `${version.original_filename} · ` : ''}
          {version.is_active ? 'current version' : 'an older version'}
          {version.byte_size != null ? ` · ${fmtBytes(version.byte_size)}` : ''}
        </p>
      ) : null}
      {doc && version && chunk ? (
        version.mime === PDF_MIME ? (
          <>
            <div className="pager" role="navigation" aria-label="Pages">
              <button type="button" className="secondary" disabled={page <= 1} onClick={() => go(page - 1)}>
                ← Previous page
              </button>
              <span className="muted">
                {page}
                {pages ? ` of ${pages}` : ''}
              </span>
              <button type="button" className="secondary" disabled={!!pages && page >= pages} onClick={() => go(page + 1)}>
                Next page →
              </button>
            </div>
            <PdfView url={base} page={page} passage={chunk.text || ''} onPages={setPages} />
          </>
        ) : (
          <TextView docId={docId} versionId={versionId} chunkId={chunkId} />
        )
      ) : null}
      {doc && !version && !error ? <ErrorMessage error="This version does not exist (any more)." /> : null}
    </section>
  );
}

export default function ViewPage() {
  return (
    <Suspended>
      <Viewer />
    </Suspended>
  );
}
