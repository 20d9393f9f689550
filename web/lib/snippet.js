// The search snippet is text with <mark>…</mark> around matches and
// &lt; &gt; &amp; escaped elsewhere. Split it into segments; never treat it as HTML.

const ENTITY = /&(lt|gt|amp);/g;
const ENTITIES = { lt: '<', gt: '>', amp: '&' };

export function unescapeEntities(s) {
  return s.replace(ENTITY, (_, name) => ENTITIES[name]);
}

/** Returns [{text, mark: boolean}] ; tolerant of unbalanced or nested marks. */
export function parseSnippet(snippet) {
  if (typeof snippet !== 'string') return [];
  const parts = snippet.split(/(<mark>|<\/mark>)/);
  const out = [];
  let depth = 0;
  for (const p of parts) {
    if (p === '<mark>') {
      depth += 1;
      continue;
    }
    if (p === '</mark>') {
      if (depth > 0) depth -= 1;
      continue;
    }
    if (!p) continue;
    const text = unescapeEntities(p);
    const mark = depth > 0;
    const last = out[out.length - 1];
    if (last && last.mark === mark) last.text += text;
    else out.push({ text, mark });
  }
  return out;
}
