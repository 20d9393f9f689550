'use client';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useUrlParams } from '../../lib/useUrlParams';
import { Suspended } from '../../components/AsyncState';
import { api, STATUSES } from '../../lib/api';
import { fmtBytes, fmtTime, isNum, isPlainObject, shortId } from '../../lib/format';
import StatusBadge from '../../components/StatusBadge';
import ErrorMessage from '../../components/ErrorMessage';
import RunsChart from '../../components/RunsChart';
import Pager from '../../components/Pager';
import DataTable from '../../components/DataTable';

// Seconds one long poll of the list may wait (RUN_WAIT_MAX is 30 s by default).
const LONG_POLL_S = 25;
const PAGE_SIZES = [10, 20, 50, 100];

/** A labelled <select> of the toolbar; `children` go before the options (e.g. "all"). */
function ToolbarSelect({ id, label, value, options, testid, onChange, children }) {
  return (
    <div className="field-inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} data-testid={testid} onChange={(e) => onChange(e.target.value)}>
        {children}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

export default function RunsPage() {
  return (
    <Suspended>
      <Runs />
    </Suspended>
  );
}

function Runs() {
  const [u, setU] = useUrlParams({ status: '', offset: '0', limit: '20' });
  const status = u.status;
  const offset = Number(u.offset) || 0;
  const limit = Number(u.limit) || 20;
  const setStatus = (v) => setU({ status: v, offset: '0' });
  const setOffset = (o) => setU({ offset: String(o) });
  const setLimit = (l) => setU({ limit: String(l), offset: '0' });
  const [auto, setAuto] = useState(true);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [updatedAt, setUpdatedAt] = useState(null);
  // The query of the request in flight: a refresh of the same query waits for it,
  // a new filter or page starts at once and an older answer is then dropped (it
  // would show the runs of the previous filter).
  const inflight = useRef(null);
  const version = useRef(null); // the list's "version" last shown: what the long poll waits to change

  const load = useCallback(async () => {
    const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (status) q.set('status', status);
    const key = q.toString();
    if (inflight.current === key) return;
    inflight.current = key;
    setLoading(true);
    try {
      const d = await api(`/v1/ingestion-runs?${q}`);
      if (inflight.current !== key) return;
      setData(isPlainObject(d) ? d : {});
      version.current = isPlainObject(d) && typeof d.version === 'string' ? d.version : null;
      setError(null);
      setUpdatedAt(new Date());
    } catch (e) {
      if (inflight.current === key) setError(e);
    } finally {
      if (inflight.current === key) {
        inflight.current = null;
        setLoading(false);
      }
    }
  }, [limit, offset, status]);

  useEffect(() => {
    load();
  }, [load]);

  // Auto-refresh is a long poll (docs/api.md): the server answers when a run of the tenant
  // changes (or after LONG_POLL_S with the same list), so an open tab costs no polling.
  useEffect(() => {
    if (!auto) return undefined;
    let stopped = false;
    let timer = null;
    let failures = 0;
    const ctrl = new AbortController();
    const tick = async () => {
      if (stopped) return;
      if (document.hidden || !version.current) {
        timer = setTimeout(tick, 1000); // nothing shown yet, or nobody looking
        return;
      }
      try {
        const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
        if (status) q.set('status', status);
        q.set('wait', String(LONG_POLL_S));
        q.set('since', version.current);
        const d = await api(`/v1/ingestion-runs?${q}`, { signal: ctrl.signal });
        if (stopped) return;
        failures = 0;
        if (isPlainObject(d)) {
          version.current = typeof d.version === 'string' ? d.version : null;
          setData(d);
          setError(null);
          setUpdatedAt(new Date());
        }
      } catch (e) {
        if (stopped || (e && e.name === 'AbortError')) return;
        failures += 1;
        setError(e);
      }
      // at once after an answer (the server waited); back off on repeated failures, never beyond 10 s
      timer = setTimeout(tick, failures ? Math.min(1000 * 2 ** failures, 10000) : 0);
    };
    tick();
    return () => {
      stopped = true;
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [auto, limit, offset, status]);

  const runs = data && Array.isArray(data.runs) ? data.runs.filter((r) => r && typeof r === 'object') : [];
  const total = data && isNum(data.total) ? data.total : null;
  const counts = data && isPlainObject(data.counts) ? data.counts : null;
  const countKeys = counts
    ? [...STATUSES, ...Object.keys(counts).filter((k) => !STATUSES.includes(k))]
    : [];

  return (
    <section>
      <h1>Ingestion runs</h1>

      {counts ? (
        <div className="counts" role="group" data-testid="run-counts" aria-label="Runs by status (whole tenant)">
          {countKeys.map((k) => (
            <button
              type="button"
              key={k}
              className={`count count-${k}${status === k ? ' selected' : ''}`}
              onClick={() => {
                setStatus(status === k ? '' : k);
                setOffset(0);
              }}
              aria-pressed={status === k}
              data-testid={`count-${k}`}
              title={`Show only ${k} runs`}
            >
              <span className="count-n">{isNum(counts[k]) ? counts[k] : '—'}</span> {k}
            </button>
          ))}
        </div>
      ) : null}

      <div className="toolbar">
        <ToolbarSelect
          id="runs-status"
          label="Status"
          value={status}
          options={STATUSES}
          testid="runs-status-filter"
          onChange={(v) => {
            setStatus(v);
            setOffset(0);
          }}
        >
          <option value="">all</option>
        </ToolbarSelect>
        <ToolbarSelect
          id="runs-limit"
          label="Per page"
          value={limit}
          options={PAGE_SIZES}
          onChange={(v) => {
            setLimit(Number(v));
            setOffset(0);
          }}
        />
        <div className="field-inline">
          <input
            id="runs-auto"
            type="checkbox"
            checked={auto}
            onChange={(e) => setAuto(e.target.checked)}
          />
          <label htmlFor="runs-auto">Auto-refresh</label>
        </div>
        <button type="button" className="secondary" onClick={load} disabled={loading}>
          Refresh
        </button>
        <span className="muted" aria-live="polite">
          {loading ? 'loading…' : updatedAt ? `updated ${updatedAt.toLocaleTimeString()}` : ''}
        </span>
      </div>

      <ErrorMessage error={error} />

      <RunsChart runs={runs} />

      <DataTable
        rows={data ? runs : null}
        loading={null}
        testid="runs-table"
        columns={['Run', 'Status', 'File / title', 'Size', 'Created', 'Error']}
        empty={`No runs${status ? ` with status ${status}` : ''}.`}
        emptyTestid="runs-empty"
        row={(r, i) => {
          const cfg = isPlainObject(r.config) ? r.config : {};
          const name = [cfg.title, cfg.original_filename].find((x) => typeof x === 'string' && x) || '—';
          const id = typeof r.run_id === 'string' ? r.run_id : null;
          return (
            <tr key={id || i} data-testid="run-row" data-run-id={id || ''} data-status={String(r.status)}>
              <td>
                {id ? (
                  <Link href={`/runs/detail/?id=${encodeURIComponent(id)}`} prefetch={false} className="mono">
                    {shortId(id)}
                  </Link>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td className="wrap">{String(name)}</td>
              <td>{fmtBytes(cfg.size_bytes) || '—'}</td>
              <td>{fmtTime(r.created_at)}</td>
              <td className="wrap">{r.error == null ? '' : String(r.error)}</td>
            </tr>
          );
        }}
      />

      <Pager limit={limit} offset={offset} total={total} count={runs.length} onOffset={setOffset} />
    </section>
  );
}
