'use client';
// Filters, pages and queries kept in the URL's query string, so a reload, a shared
// link and Back show the same screen. Values are strings; a value equal to its
// default is left out of the URL. Several updates in one event make one navigation.
import { useCallback, useRef } from 'react';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';

export function useUrlParams(defaults) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const pending = useRef(null);
  const values = {};
  for (const k of Object.keys(defaults)) values[k] = params.get(k) ?? defaults[k];

  const update = useCallback(
    (changes) => {
      const first = !pending.current;
      pending.current = { ...(pending.current || {}), ...changes };
      if (!first) return;
      queueMicrotask(() => {
        const q = new URLSearchParams(window.location.search);
        for (const [k, v] of Object.entries(pending.current)) {
          const s = v == null ? '' : String(v);
          if (s === '' || s === String(defaults[k] ?? '')) q.delete(k);
          else q.set(k, s);
        }
        pending.current = null;
        const s = q.toString();
        router.replace(`${pathname}${s ? `?${s}` : ''}`, { scroll: false });
      });
    },
    // defaults is a literal of the caller: its keys and values do not change
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [router, pathname],
  );
  return [values, update];
}
