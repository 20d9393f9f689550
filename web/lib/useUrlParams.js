'use client';
// Filters, pages and queries kept in the URL's query string, so a reload, a shared
// link and Back show the same screen. Values are strings; a value equal to its
// default is left out of the URL. Several updates in one event make one navigation.
//
// router.replace() lands in a transition, after the event that asked for it. Until
// it lands, the values just set are shown from a local overlay, so a controlled
// input (a checkbox, a select) shows its new state at once instead of snapping back
// for a frame. An update made while an earlier one is still in flight starts from
// the URL that one asked for (not from window.location, which still shows the old
// query), so the earlier change is never undone; the overlay stays until the last
// asked-for URL lands, and is dropped at once by any other navigation (Back).
import { useCallback, useEffect, useRef, useState } from 'react';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';

export function useUrlParams(defaults) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const pending = useRef(null); // changes of this event, not yet turned into a navigation
  const inflight = useRef([]); // query strings asked for that have not landed yet
  const [overlay, setOverlay] = useState(null);
  const key = params.toString();

  useEffect(() => {
    // A change made in this very event is still to navigate (its microtask has not run):
    // React runs this effect before rendering that change, and clearing here would
    // drop it from the overlay (a just-clicked checkbox would snap back). Its own
    // navigation's landing clears the overlay.
    if (pending.current) return;
    const i = inflight.current.indexOf(key);
    // ours and newer ones still to land: keep showing what was asked for
    if (i >= 0 && i < inflight.current.length - 1) {
      inflight.current = inflight.current.slice(i + 1);
      return;
    }
    inflight.current = [];
    setOverlay(null);
  }, [key]);

  const values = {};
  for (const k of Object.keys(defaults)) {
    const o = overlay && Object.prototype.hasOwnProperty.call(overlay, k) ? overlay[k] : undefined;
    values[k] = o !== undefined ? o : (params.get(k) ?? defaults[k]);
  }

  const update = useCallback(
    (changes) => {
      const shown = {};
      for (const [k, v] of Object.entries(changes)) shown[k] = v == null || v === '' ? String(defaults[k] ?? '') : String(v);
      const first = !pending.current;
      pending.current = { ...(pending.current || {}), ...changes };
      setOverlay((o) => ({ ...(o || {}), ...shown }));
      if (!first) return;
      queueMicrotask(() => {
        const flying = inflight.current;
        const current = window.location.search.replace(/^\?/, '');
        const before = flying.length ? flying[flying.length - 1] : current;
        const q = new URLSearchParams(before);
        for (const [k, v] of Object.entries(pending.current)) {
          const s = v == null ? '' : String(v);
          if (s === '' || s === String(defaults[k] ?? '')) q.delete(k);
          else q.set(k, s);
        }
        pending.current = null;
        const s = q.toString();
        if (s === before) {
          // the same URL makes no navigation: when it is already the URL (nothing in
          // flight, or the last one landed), nothing else will drop the overlay, and the
          // overlay equals the URL
          if (!flying.length || before === current) {
            inflight.current = [];
            setOverlay(null);
          }
          return;
        }
        inflight.current = [...flying, s];
        router.replace(`${pathname}${s ? `?${s}` : ''}`, { scroll: false });
      });
    },
    // defaults is a literal of the caller: its keys and values do not change
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [router, pathname],
  );
  return [values, update];
}
