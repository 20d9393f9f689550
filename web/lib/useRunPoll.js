'use client';
import { useEffect, useState } from 'react';
import { api, TERMINAL } from './api';

/** Poll GET /v1/ingestion-runs/:id every `intervalMs` until the run is terminal. */
export function useRunPoll(runId, { intervalMs = 1000, enabled = true } = {}) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [polling, setPolling] = useState(false);

  useEffect(() => {
    if (!runId || !enabled) return undefined;
    let stopped = false;
    let timer = null;
    let failures = 0;
    setPolling(true);
    const tick = async () => {
      try {
        const r = await api(`/v1/ingestion-runs/${encodeURIComponent(runId)}`);
        if (stopped) return;
        failures = 0;
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
      // back off a little on repeated failures, never beyond 10 s
      const wait = failures ? Math.min(intervalMs * 2 ** failures, 10000) : intervalMs;
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
