'use client';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '../../lib/api';
import { isNum, isPlainObject, pageRange } from '../../lib/format';
import ErrorMessage from '../../components/ErrorMessage';
import Snippet from '../../components/Snippet';

export default function SearchPage() {
  const [query, setQuery] = useState('');
  const [topK, setTopK] = useState(8);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const [asked, setAsked] = useState('');

  async function onSubmit(ev) {
    ev.preventDefault();
    const q = query.trim();
    if (!q) {
      setError('Type something to search for.');
      return;
    }
    const k = Math.max(1, Math.min(50, Math.round(Number(topK)) || 8));
    setBusy(true);
    setError(null);
    try {
      const d = await api('/v1/search', { method: 'POST', body: { query: q, top_k: k } });
      setResult(isPlainObject(d) ? d : {});
      setAsked(q);
    } catch (e) {
      setError(e);
      setResult(null);
    } finally {
      setBusy(false);
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
                    <span className="score" data-testid="citation-score" title="relevance score">
                      score {isNum(c.score) ? c.score.toFixed(3) : c.score == null ? '—' : String(c.score)}
                    </span>
                  </div>
                  <Snippet text={c.snippet} />
                  {c.source_uri != null ? <div className="muted small mono">{String(c.source_uri)}</div> : null}
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
    </section>
  );
}
