'use client';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../../lib/api';
import Pager from '../../../components/Pager';
import { fmtTime, isPlainObject } from '../../../lib/format';
import { isAdmin, useSession } from '../../../components/Session';
import ErrorMessage from '../../../components/ErrorMessage';
import StatusBadge from '../../../components/StatusBadge';
import DataTable from '../../../components/DataTable';

export default function UsersPage() {
  const { user } = useSession();
  if (!isAdmin(user)) return <AdminsOnly />;
  return <UsersAdmin me={user} />;
}

function AdminsOnly() {
  return (
    <section>
      <h1>Users</h1>
      <p className="notice" role="alert" data-testid="admins-only">
        Admins only: you need the admin role to manage users.
      </p>
    </section>
  );
}

/* Users per page (the API allows at most 100). */
const USERS_PAGE = 50;

function UsersAdmin({ me }) {
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  const [forbidden, setForbidden] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('user');
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [rowBusy, setRowBusy] = useState({});
  const [rowError, setRowError] = useState({});
  // The role a confirmed change asked for, shown by the row's select until the server
  // answers (the select is controlled by the user's role, which changes only then).
  const [rowWant, setRowWant] = useState({});
  const [offset, setOffset] = useState(0);
  const [total, setTotal] = useState(null);

  const load = useCallback(async () => {
    try {
      const q = new URLSearchParams({ limit: String(USERS_PAGE), offset: String(offset) });
      const d = await api(`/v1/users?${q}`);
      const list = isPlainObject(d) && Array.isArray(d.users) ? d.users.filter((u) => u && typeof u === 'object') : [];
      setUsers(list);
      setTotal(isPlainObject(d) && Number.isInteger(d.total) ? d.total : null);
      setError(null);
    } catch (e) {
      if (e.status === 403) setForbidden(true);
      setError(e);
    }
  }, [offset]);

  useEffect(() => {
    load();
  }, [load]);

  if (forbidden) return <AdminsOnly />;

  async function onCreate(ev) {
    ev.preventDefault();
    setCreating(true);
    setCreateError(null);
    setNotice(null);
    try {
      const d = await api('/v1/users', { method: 'POST', body: { email: email.trim(), password, role } });
      const u = isPlainObject(d) && isPlainObject(d.user) ? d.user : null;
      setNotice(`Created ${u && u.email ? u.email : email.trim()} (${u && u.role ? u.role : role}).`);
      setEmail('');
      setPassword('');
      setRole('user');
      await load();
    } catch (e) {
      setCreateError(e);
    } finally {
      setCreating(false);
    }
  }

  async function patchUser(u, body, label) {
    const id = u.user_id;
    // Promotions and deactivations change what someone may do at once: ask first.
    const ask =
      body.role === 'admin'
        ? `Make ${u.email} an admin? Admins manage users and can delete documents.`
        : body.role === 'user'
          ? `Remove the admin role from ${u.email}?`
          : body.is_active === false
            ? `Deactivate ${u.email}? They are signed out at once and cannot sign in.`
            : null;
    if (ask && !window.confirm(ask)) {
      await load();
      return;
    }
    setRowBusy((b) => ({ ...b, [id]: true }));
    setRowError((m) => ({ ...m, [id]: null }));
    if (body.role) setRowWant((w) => ({ ...w, [id]: body.role }));
    setNotice(null);
    try {
      const d = await api(`/v1/users/${encodeURIComponent(id)}`, { method: 'PATCH', body });
      const nu = isPlainObject(d) && isPlainObject(d.user) ? d.user : null;
      if (nu) setUsers((list) => (list || []).map((x) => (x.user_id === id ? { ...x, ...nu } : x)));
      else await load();
      setNotice(`${u.email}: ${label}.`);
    } catch (e) {
      setRowError((m) => ({ ...m, [id]: e }));
    } finally {
      setRowBusy((b) => ({ ...b, [id]: false }));
      setRowWant((w) => ({ ...w, [id]: undefined }));
    }
  }

  return (
    <section>
      <h1>Users</h1>

      <h2>Create a user</h2>
      <form onSubmit={onCreate} className="form inline-form" aria-label="Create a user" data-testid="user-create-form">
        <div className="field">
          <label htmlFor="new-email">Email</label>
          <input id="new-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" data-testid="new-user-email" />
        </div>
        <div className="field">
          <label htmlFor="new-password">Password</label>
          <input id="new-password" type="password" required value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" data-testid="new-user-password" />
        </div>
        <div className="field">
          <label htmlFor="new-role">Role</label>
          <select id="new-role" value={role} onChange={(e) => setRole(e.target.value)} data-testid="new-user-role">
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <button type="submit" disabled={creating} data-testid="new-user-submit">
          {creating ? 'Creating…' : 'Create user'}
        </button>
      </form>
      <ErrorMessage error={createError} prefix="Could not create the user" />
      {notice ? (
        <p className="notice" role="status" data-testid="users-notice">
          {notice}
        </p>
      ) : null}

      <h2>All users</h2>
      <DataTable
        rows={users}
        error={error}
        testid="users-table"
        columns={['Email', 'Role', 'State', 'Created', 'Actions']}
        empty="No users."
        row={(u, i) => {
          const id = typeof u.user_id === 'string' ? u.user_id : `row${i}`;
          const self = me && u.user_id === me.user_id;
          const activeNow = u.is_active !== false;
          const busy = !!rowBusy[id];
          const em = String(u.email ?? '');
          return (
            <tr key={id} data-testid="user-row" data-email={em}>
              <td>
                {em}
                {self ? <span className="muted"> (you)</span> : null}
                <ErrorMessage error={rowError[id]} />
              </td>
              <td>
                <label className="sr-only" htmlFor={`role-${id}`}>
                  Role of {em}
                </label>
                <select
                  id={`role-${id}`}
                  value={rowWant[id] || (u.role === 'admin' ? 'admin' : 'user')}
                  disabled={busy || self}
                  title={self ? 'You cannot change your own role' : undefined}
                  data-testid="user-role"
                  onChange={(e) => patchUser(u, { role: e.target.value }, `role set to ${e.target.value}`)}
                >
                  <option value="user">user</option>
                  <option value="admin">admin</option>
                </select>
              </td>
              <td>
                <StatusBadge status={activeNow ? 'active' : 'inactive'} testid="user-state" />
              </td>
              <td>{fmtTime(u.created_at)}</td>
              <td>
                <button
                  type="button"
                  className={activeNow ? 'danger' : 'secondary'}
                  disabled={busy || self}
                  title={self ? 'You cannot deactivate yourself' : undefined}
                  data-testid={activeNow ? 'user-deactivate' : 'user-reactivate'}
                  aria-label={`${activeNow ? 'Deactivate' : 'Reactivate'} ${em}`}
                  onClick={() =>
                    patchUser(u, { is_active: !activeNow }, activeNow ? 'deactivated' : 'reactivated')
                  }
                >
                  {activeNow ? 'Deactivate' : 'Reactivate'}
                </button>
              </td>
            </tr>
          );
        }}
      />
      <Pager limit={USERS_PAGE} offset={offset} total={total} count={users ? users.length : 0} onOffset={setOffset} />
    </section>
  );
}
