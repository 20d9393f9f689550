'use client';
// S3 sources (issue 17, docs/sources.md): every signed-in user sees the tenant's sources, their
// last sync and how many documents each holds; admins also create, edit, delete and sync them.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../lib/api';
import { fmtTime, isPlainObject } from '../../lib/format';
import { isAdmin, useSession } from '../../components/Session';
import ErrorMessage from '../../components/ErrorMessage';
import StatusBadge from '../../components/StatusBadge';
import DataTable from '../../components/DataTable';

const EMPTY = { name: '', bucket: '', prefix: '', region: '', endpoint: '', credentials_ref: '', schedule: 'manual', include: '', exclude: '' };
const POLL_MS = 2000;
const COUNTS = ['listed', 'new', 'changed', 'removed', 'unchanged', 'failed', 'ignored'];

const globs = (s) => s.split(',').map((g) => g.trim()).filter(Boolean);
const text = (v) => (typeof v === 'string' ? v : '');

function toForm(s) {
  return {
    name: text(s.name), bucket: text(s.bucket), prefix: text(s.prefix), region: text(s.region),
    endpoint: text(s.endpoint), credentials_ref: text(s.credentials_ref),
    schedule: s.schedule_seconds > 0 ? `every ${s.schedule_seconds}s` : 'manual',
    include: Array.isArray(s.include) ? s.include.join(', ') : '', exclude: Array.isArray(s.exclude) ? s.exclude.join(', ') : '',
  };
}

function toBody(f) {
  return { name: f.name.trim(), bucket: f.bucket.trim(), prefix: f.prefix, region: f.region.trim(), endpoint: f.endpoint.trim(),
    credentials_ref: f.credentials_ref.trim(), schedule: f.schedule.trim() || 'manual', include: globs(f.include), exclude: globs(f.exclude) };
}

function SyncResult({ sync }) {
  if (!isPlainObject(sync)) return <span className="muted">never synced</span>;
  const stats = isPlainObject(sync.stats) ? sync.stats : {};
  return (
    <span data-testid="source-last-sync">
      <StatusBadge status={String(sync.status ?? '')} />{' '}
      <span className="muted">{fmtTime(sync.finished_at ?? sync.created_at)}</span>
      {COUNTS.some((k) => Number.isInteger(stats[k])) ? (
        <span className="muted"> · {COUNTS.filter((k) => Number.isInteger(stats[k])).map((k) => `${k} ${stats[k]}`).join(', ')}</span>
      ) : null}
      {sync.error ? <span data-testid="source-sync-error"> · {String(sync.error)}</span> : null}
    </span>
  );
}

const FIELDS = [
  ['name', 'Name', true], ['bucket', 'Bucket', true], ['prefix', 'Prefix'], ['region', 'Region'],
  ['endpoint', 'Endpoint (empty: AWS)'], ['credentials_ref', 'Credentials (env:NAME)'], ['schedule', 'Schedule (manual, every 15m)'],
  ['include', 'Include globs (comma-separated)'], ['exclude', 'Exclude globs (comma-separated)'],
];

function SourceForm({ form, setForm, onSubmit, busy, editing, onCancel }) {
  return (
    <form onSubmit={onSubmit} className="form" aria-label={editing ? 'Edit the source' : 'Create a source'} data-testid="source-form">
      {FIELDS.map(([k, label, required]) => (
        <div className="field" key={k}>
          <label htmlFor={`source-${k}`}>{label}</label>
          <input id={`source-${k}`} value={form[k]} required={!!required} autoComplete="off" data-testid={`source-${k}`}
            onChange={(e) => setForm((f) => ({ ...f, [k]: e.target.value }))} />
        </div>
      ))}
      <button type="submit" disabled={busy} data-testid="source-submit">{editing ? 'Save' : 'Create source'}</button>
      {editing ? <button type="button" className="secondary" onClick={onCancel}>Cancel</button> : null}
    </form>
  );
}

export default function SourcesPage() {
  const { user } = useSession();
  const admin = isAdmin(user);
  const [sources, setSources] = useState(null);
  const [error, setError] = useState(null);
  const [form, setForm] = useState(EMPTY);
  const [editing, setEditing] = useState(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState(null);
  const [rowError, setRowError] = useState({});
  const [notice, setNotice] = useState(null);

  const load = useCallback(async () => {
    try {
      const d = await api('/v1/sources');
      setSources(isPlainObject(d) && Array.isArray(d.sources) ? d.sources.filter(isPlainObject) : []);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);

  useEffect(() => { load(); }, [load]);
  // Follow syncs that are still queued or running.
  const active = (sources || []).some((s) => isPlainObject(s.last_sync) && ['queued', 'running'].includes(s.last_sync.status));
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(load, POLL_MS);
    return () => clearInterval(t);
  }, [active, load]);

  async function onSubmit(ev) {
    ev.preventDefault();
    setBusy(true);
    setFormError(null);
    setNotice(null);
    try {
      const path = editing ? `/v1/sources/${encodeURIComponent(editing)}` : '/v1/sources';
      await api(path, { method: editing ? 'PATCH' : 'POST', body: toBody(form) });
      setNotice(editing ? `Saved ${form.name.trim()}.` : `Created ${form.name.trim()}.`);
      setForm(EMPTY);
      setEditing(null);
      await load();
    } catch (e) {
      setFormError(e);
    } finally {
      setBusy(false);
    }
  }

  async function act(s, method, path, done) {
    setRowError((m) => ({ ...m, [s.source_id]: null }));
    setNotice(null);
    try {
      await api(path, { method });
      setNotice(done);
    } catch (e) {
      setRowError((m) => ({ ...m, [s.source_id]: e }));
    }
    await load();
  }

  return (
    <section>
      <h1>Sources</h1>
      <p className="muted">S3 buckets synced into the knowledge base. {admin ? '' : 'Only admins can change them.'}</p>
      {notice ? <p className="notice" role="status" data-testid="sources-notice">{notice}</p> : null}
      <DataTable
        rows={sources}
        error={error}
        testid="sources-table"
        columns={admin ? ['Name', 'Location', 'Schedule', 'Documents', 'Last sync', 'Actions'] : ['Name', 'Location', 'Schedule', 'Documents', 'Last sync']}
        empty="No sources yet."
        row={(s, i) => {
          const id = typeof s.source_id === 'string' ? s.source_id : `row${i}`;
          const name = text(s.name);
          return (
            <tr key={id} data-testid="source-row" data-name={name}>
              <td>{name}<ErrorMessage error={rowError[id]} /></td>
              <td><code>s3://{text(s.bucket)}/{text(s.prefix)}</code>{s.endpoint ? <span className="muted"> at {text(s.endpoint)}</span> : null}</td>
              <td>{text(s.schedule)}</td>
              <td><a href={`/documents/?source=${encodeURIComponent(id)}`} data-testid="source-documents" aria-label={`Documents of ${name}`}>{Number.isInteger(s.documents) ? s.documents : 0}</a></td>
              <td><SyncResult sync={s.last_sync} /></td>
              {admin ? (
                <td>
                  <button type="button" data-testid="source-sync" aria-label={`Sync ${name}`}
                    onClick={() => act(s, 'POST', `/v1/sources/${encodeURIComponent(id)}/sync`, `Sync of ${name} queued.`)}>Sync now</button>{' '}
                  <button type="button" className="secondary" data-testid="source-edit" aria-label={`Edit ${name}`}
                    onClick={() => { setEditing(id); setForm(toForm(s)); setFormError(null); }}>Edit</button>{' '}
                  <button type="button" className="danger" data-testid="source-delete" aria-label={`Delete ${name}`}
                    onClick={() => { if (window.confirm(`Delete the source ${name}? Its documents stay.`)) act(s, 'DELETE', `/v1/sources/${encodeURIComponent(id)}`, `Deleted ${name}.`); }}>Delete</button>
                </td>
              ) : null}
            </tr>
          );
        }}
      />
      {admin ? (
        <>
          <h2>{editing ? 'Edit the source' : 'Add a source'}</h2>
          <SourceForm form={form} setForm={setForm} onSubmit={onSubmit} busy={busy} editing={!!editing}
            onCancel={() => { setEditing(null); setForm(EMPTY); }} />
          <ErrorMessage error={formError} prefix={editing ? 'Could not save the source' : 'Could not create the source'} />
          <p className="muted">Credentials are never stored: name them as env:NAME and give the workers NAME_ACCESS_KEY_ID and NAME_SECRET_ACCESS_KEY.</p>
        </>
      ) : null}
    </section>
  );
}
