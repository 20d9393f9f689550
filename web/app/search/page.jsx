'use client';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { useRouter, useSearchParams } from 'next/navigation';
import { api } from '../../lib/api';
import { Suspended } from '../../components/AsyncState';
import { isNum, isPlainObject, pageRange } from '../../lib/format';
import ErrorMessage from '../../components/ErrorMessage';
import Snippet from '../../components/Snippet';

/** Where a citation opens: the viewer at its page, with the chunk to highlight. */
function viewerHref(c) {
  const q = new URLSearchParams({ doc: c.doc_id, version: c.version_id, chunk: c.chunk_id });
  if (isNum(c.page_start)) q.set('page', String(c.page_start));
  return `/view/?${q.toString()}`;
}

export default function SearchPage() {
  return (
    <Suspended>
      <Search />
    </Suspended>
  );
}

// The query and top_k live in the URL (?q=&k=), so Back from a citation shows the same results.
function Search() {
  const params = useSearchParams();
  const router = useRouter();
  const urlQ = params.get('q') || '';
  const urlK = Number(params.get('k')) || 8;
  const [query, setQuery] = useState(urlQ);
  const [topK, setTopK] = useState(urlK);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const [asked, setAsked] = useState('');

  useEffect(() => {
    setQuery(urlQ);
    setTopK(urlK);
    if (urlQ.trim()) run(urlQ.trim(), urlK);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [urlQ, urlK]);

  function onSubmit(ev) {
    ev.preventDefault();
    const q = query.trim();
    if (!q) {
      setError('Type something to search for.');
      return;
    }
    const k = Math.max(1, Math.min(50, Math.round(Number(topK)) || 8));
    if (q === urlQ && k === urlK) run(q, k);
    else router.push(`/search/?${new URLSearchParams({ q, k: String(k) }).toString()}`);
  }

  // Only the newest search's answer is shown (Back, then a new query, may overlap).
  const seq = useRef(0);
  async function run(q, k) {
    seq.current += 1;
    const mine = seq.current;
    setBusy(true);
    setError(null);
    try {
      const d = await api('/v1/search', { method: 'POST', body: { query: q, top_k: k } });
      if (mine !== seq.current) return;
      setResult(isPlainObject(d) ? d : {});
      setAsked(q);
    } catch (e) {
      if (mine !== seq.current) return;
      setError(e);
      setResult(null);
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  }

  const results = result && Array.isArray(result.results) ? result.results.filter((c) => c && typeof c === 'object') : [];
  const abstained = result && (result.status === 'abstained' || (result.status !== 'answered' && !results.length));

  return (
    <section>
      <h1>Search</h1>
      <form onSubmit={onSubmit} className="searchform" role="search" aria-label="Search the knowledge base">
        <div className="field grow">
          <label htmlFor="search-query">Question or keywords</label>
          <input
            id="search-query"
            type="search"
            value={query}
            maxLength={1000}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="search-query"
          />
        </div>
        <div className="field">
          <label htmlFor="search-topk">Results (top k)</label>
          <input
            id="search-topk"
            type="number"
            min={1}
            max={50}
            value={topK}
            onChange={(e) => setTopK(e.target.value)}
            data-testid="search-topk"
            className="narrowinput"
          />
        </div>
        <button type="submit" disabled={busy} data-testid="search-submit">
          {busy ? 'Searching…' : 'Search'}
        </button>
      </form>

      <ErrorMessage error={error} />

      {result && abstained ? (
        <div className="abstain" role="status" data-testid="search-abstained" data-query={asked}>
          <h2>No evidence found</h2>
          <p>
            Nothing in the active documents supports an answer to “{asked}”. No citation is given rather than a
            guess.
          </p>
        </div>
      ) : null}

      {result && !abstained ? (
        <>
          <p className="muted" role="status">
            {results.length} citation{results.length === 1 ? '' : 's'} for “{asked}”
          </p>
          <ol className="results" data-testid="search-results" data-query={asked}>
            {results.map((c, i) => {
              const title = typeof c.title === 'string' && c.title ? c.title : '(untitled)';
              const pages = pageRange(c.page_start, c.page_end);
              return (
                <li key={typeof c.chunk_id === 'string' ? c.chunk_id : i} className="citation" data-testid="citation">
                  <div className="cite-head">
                    {typeof c.doc_id === 'string' ? (
                      <Link href={`/documents/detail/?id=${encodeURIComponent(c.doc_id)}`} prefetch={false} className="cite-title" data-testid="citation-title">
                        {title}
                      </Link>
                    ) : (
                      <span className="cite-title" data-testid="citation-title">{title}</span>
                    )}
                    {pages ? <span className="muted" data-testid="citation-pages">{pages}</span> : null}
                    {typeof c.page_label === 'string' && c.page_label ? (
                      <span className="muted" data-testid="citation-page-label">printed page {c.page_label}</span>
                    ) : null}
                    {typeof c.section === 'string' && c.section ? (
                      <span className="muted break" data-testid="citation-section">{c.section}</span>
                    ) : null}
                    {c.ocr === true ? (
                      <span
                        className="badge badge-ocr"
                        data-testid="citation-ocr"
                        title="Recognised from an image (OCR): some or all of this passage's text was read from a scanned page or a picture and may contain recognition errors"
                      >
                        OCR
                      </span>
                    ) : null}
                    <span className="score" data-testid="citation-score" title="relevance score">
                      score {isNum(c.score) ? c.score.toFixed(3) : c.score == null ? '—' : String(c.score)}
                    </span>
                  </div>
                  <Snippet text={c.snippet} />
                  {typeof c.doc_id === 'string' && typeof c.version_id === 'string' && typeof c.chunk_id === 'string' ? (
                    <Link href={viewerHref(c)} prefetch={false} className="cite-open" data-testid="citation-open">
                      Open at this passage
                    </Link>
                  ) : null}
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
    </section>
  );
}
