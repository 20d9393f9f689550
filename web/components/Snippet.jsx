'use client';
import { parseSnippet } from '../lib/snippet';

/** Renders a search snippet as text nodes and <mark> elements (never as HTML). */
export default function Snippet({ text }) {
  const parts = parseSnippet(text);
  if (!parts.length) return <p className="snippet muted">(no snippet)</p>;
  return (
    <p className="snippet" data-testid="snippet">
      {parts.map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </p>
  );
}
