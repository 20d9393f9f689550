'use client';
import { useEffect, useState } from 'react';
import { api, TERMINAL } from './api';

// Seconds one long poll may wait (RUN_WAIT_MAX is 30 s by default).
const LONG_POLL_S = 25;

/**
 * Follow GET /v1/ingestion-runs/:id until the run is terminal. After the first
 * read each request is a long poll (`?wait=` with the `updated_at` already
 * shown, docs/api.md): the server answers when the run changes, so a watching
 * tab costs no polling traffic. `intervalMs` is the pause after an error (and
 * the base of its back-off).
 */
export function useRunPoll(runId, { intervalMs = 1000, enabled = true } = {}) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [polling, setPolling] = useState(false);

  useEffect(() => {
    if (!runId || !enabled) return undefined;
    let stopped = false;
    let timer = null;
    let failures = 0;
    let since = null;
    setPolling(true);
    const tick = async () => {
      try {
        const path = `/v1/ingestion-runs/${encodeURIComponent(runId)}`;
        const r = await api(since ? `${path}?wait=${LONG_POLL_S}&since=${encodeURIComponent(since)}` : path);
        if (stopped) return;
        failures = 0;
        since = r?.updated_at ?? null;
        setRun(r);
        setError(null);
        if (r && TERMINAL.has(r.status)) {
          setPolling(false);
          return;
        }
      } catch (e) {
        if (stopped) return;
        setError(e);
        failures += 1;
        if (e.status === 401 || e.status === 403 || e.status === 404) {
          setPolling(false);
          return;
        }
      }
      // at once after an answer (the server waited); back off on repeated failures, never beyond 10 s
      const wait = failures ? Math.min(intervalMs * 2 ** failures, 10000) : 0;
      timer = setTimeout(tick, wait);
    };
    tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [runId, intervalMs, enabled]);

  return { run, error, polling };
}
