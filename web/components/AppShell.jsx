'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, sessionExpired } from '../lib/api';
import { SessionContext, isAdmin, parseLimits } from './Session';
import ErrorMessage from './ErrorMessage';

const PUBLIC = new Set(['/login']);

function norm(p) {
  const s = (p || '/').replace(/\/+$/, '');
  return s || '/';
}

const LINKS = [
  { href: '/upload/', label: 'Upload', match: '/upload' },
  { href: '/runs/', label: 'Runs', match: '/runs' },
  { href: '/documents/', label: 'Documents', match: '/documents' },
  { href: '/search/', label: 'Search', match: '/search' },
  { href: '/sources/', label: 'Sources', match: '/sources' },
];

export default function AppShell({ children }) {
  const pathname = norm(usePathname());
  const isPublic = PUBLIC.has(pathname);
  const [user, setUser] = useState(null);
  const [limits, setLimits] = useState(null); // {max_upload_bytes} from /v1/auth/me
  const limitsAsked = useRef(null); // the user whose limits were asked for
  const [status, setStatus] = useState('loading'); // loading | ready | anonymous | error
  const [error, setError] = useState(null);
  const [loggingOut, setLoggingOut] = useState(false);

  const loadMe = useCallback(async () => {
    setStatus('loading');
    setError(null);
    try {
      const data = await api('/v1/auth/me', { on401: 'throw' });
      const u = data && typeof data === 'object' ? data.user : null;
      if (!u || typeof u !== 'object') throw new Error('The server sent no user.');
      limitsAsked.current = u;
      setUser(u);
      setLimits(parseLimits(data));
      setStatus('ready');
    } catch (e) {
      setUser(null);
      setLimits(null);
      if (e && e.status === 401) {
        setStatus('anonymous');
        // not signed in (or the session expired): go to the login page
        if (norm(window.location.pathname) !== '/login') sessionExpired(false);
      } else {
        setError(e);
        setStatus('error');
      }
    }
  }, []);

  useEffect(() => {
    if (isPublic) {
      setStatus((s) => (s === 'loading' ? 'anonymous' : s));
      return;
    }
    if (!user) loadMe();
    // re-check only when moving between public and private pages
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [isPublic]);

  const setSessionUser = useCallback((u) => {
    limitsAsked.current = null;
    setUser(u);
    setLimits(null); // asked for again below (the login answer carries no limits)
    setStatus(u ? 'ready' : 'anonymous');
  }, []);

  // A user set by the login page comes without limits: fetch them quietly, without
  // blanking the page. Failures are ignored (the server still enforces its limits).
  useEffect(() => {
    if (isPublic || status !== 'ready' || !user || limits || limitsAsked.current === user) return undefined;
    const asked = user;
    limitsAsked.current = asked;
    api('/v1/auth/me', { on401: 'throw' })
      .then((data) => {
        // still the same session (not logged out or replaced meanwhile)
        if (limitsAsked.current === asked) setLimits(parseLimits(data));
      })
      .catch(() => {});
    return undefined;
  }, [isPublic, status, user, limits]);

  const logout = useCallback(async () => {
    setLoggingOut(true);
    try {
      await api('/v1/auth/logout', { method: 'POST', on401: 'throw' });
    } catch {
      // a failed or expired logout still ends the session on this side
    }
    limitsAsked.current = null;
    setUser(null);
    setLimits(null);
    setStatus('anonymous');
    window.location.assign('/login/');
  }, []);

  const ctx = useMemo(
    () => ({ user, limits, status, setUser: setSessionUser, logout, reload: loadMe }),
    [user, limits, status, setSessionUser, logout, loadMe],
  );

  const links = isAdmin(user)
    ? [...LINKS, { href: '/admin/users/', label: 'Users', match: '/admin' }]
    : LINKS;

  let body;
  if (isPublic) body = children;
  else if (status === 'ready') body = children;
  else if (status === 'error')
    body = (
      <div className="panel">
        <ErrorMessage error={error} />
        <button type="button" onClick={loadMe}>
          Retry
        </button>
      </div>
    );
  else
    body = (
      <p className="muted" role="status">
        {status === 'anonymous' ? 'Redirecting to sign in…' : 'Loading…'}
      </p>
    );

  return (
    <SessionContext.Provider value={ctx}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href={user ? '/upload/' : '/login/'} className="brand" prefetch={false}>
          DocIngest
        </Link>
        {user && (
          <nav aria-label="Main" className="mainnav" data-testid="nav">
            <ul>
              {links.map((l) => {
                const active = pathname === l.match || pathname.startsWith(l.match + '/');
                return (
                  <li key={l.href}>
                    <Link
                      href={l.href}
                      prefetch={false}
                      aria-current={active ? 'page' : undefined}
                      data-testid={`nav-${l.label.toLowerCase()}`}
                    >
                      {l.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
        )}
        {user && (
          <div className="who">
            <span data-testid="whoami" title={`tenant ${user.tenant_slug || user.tenant_id || ''}`}>
              {String(user.email || '')}{' '}
              <span className="muted">
                ({String(user.role || '?')}
                {user.tenant_slug ? ` · ${user.tenant_slug}` : ''})
              </span>
            </span>
            <button
              type="button"
              className="secondary"
              onClick={logout}
              disabled={loggingOut}
              data-testid="logout"
            >
              Log out
            </button>
          </div>
        )}
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {body}
      </main>
    </SessionContext.Provider>
  );
}
