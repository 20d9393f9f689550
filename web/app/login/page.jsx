'use client';
import { useEffect, useState } from 'react';
import { useRouter, useSearchParams } from 'next/navigation';
import { api, resetRedirectGuard } from '../../lib/api';
import { useSession } from '../../components/Session';
import ErrorMessage from '../../components/ErrorMessage';
import { Suspended } from '../../components/AsyncState';

function safeNext(n) {
  // only same-site paths, never "//host" or a scheme
  if (typeof n !== 'string' || !n.startsWith('/') || n.startsWith('//') || n.startsWith('/\\')) {
    return '/upload/';
  }
  if (n === '/' || /^\/login(\/|\?|$)/.test(n)) return '/upload/';
  return n;
}

/** A required labelled input of the sign-in form; id and test id are `login-<name>`. */
function LoginInput({ name, label, type, autoComplete, value, onChange }) {
  const id = `login-${name}`;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
        data-testid={id}
      />
    </>
  );
}

function LoginForm() {
  const params = useSearchParams();
  const router = useRouter();
  const { setUser } = useSession();
  const expired = params.get('expired') === '1';
  const next = safeNext(params.get('next'));
  const [tenant, setTenant] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  // the tenant is not secret: remember the last one used on this browser
  useEffect(() => {
    try {
      const t = window.localStorage.getItem('lastTenant');
      if (t) setTenant((cur) => cur || t);
    } catch {
      // storage may be unavailable
    }
  }, []);

  async function onSubmit(ev) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await api('/v1/auth/login', {
        method: 'POST',
        body: { tenant: tenant.trim(), email: email.trim(), password },
        on401: 'throw',
      });
      const u = data && typeof data === 'object' ? data.user : null;
      resetRedirectGuard();
      try {
        window.localStorage.setItem('lastTenant', tenant.trim());
      } catch {
        // ignore
      }
      setUser(u && typeof u === 'object' ? u : null);
      if (!u) {
        window.location.assign(next);
        return;
      }
      router.replace(next);
    } catch (e) {
      // a 401 here is a failed login, not an expired session
      if (e && e.status === 401) setError('The tenant, email or password is wrong, or this account was deactivated.');
      else if (e && e.status === 429) {
        const s = /retry after (\d+)/.exec(String(e.message));
        setError(`Too many failed sign-ins from this address. Wait ${s ? `${s[1]} seconds` : 'a few minutes'} and try again.`);
      } else setError(e);
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      {expired && !error ? (
        <p className="notice" role="status" data-testid="session-expired">
          Your session has ended (you signed out elsewhere, your password was changed, or an admin deactivated your account). Please sign in again.
        </p>
      ) : null}
      <form onSubmit={onSubmit} className="form" data-testid="login-form" aria-label="Sign in">
        <LoginInput name="tenant" label="Tenant" autoComplete="organization" value={tenant} onChange={setTenant} />
        <LoginInput name="email" label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} />
        <LoginInput
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
        />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}

export default function LoginPage() {
  return (
    <Suspended>
      <LoginForm />
    </Suspended>
  );
}
