'use client';
import { createContext, useContext } from 'react';

export const SessionContext = createContext({
  user: null,
  // server limits from GET /v1/auth/me ({max_upload_bytes}), null until known
  limits: null,
  status: 'loading',
  setUser: () => {},
  logout: async () => {},
});

export function useSession() {
  return useContext(SessionContext);
}

export function isAdmin(user) {
  return !!user && user.role === 'admin';
}

/** The `limits` of a /v1/auth/me answer, or null when absent or malformed. */
export function parseLimits(data) {
  const l = data && typeof data === 'object' ? data.limits : null;
  const max = l && typeof l === 'object' ? l.max_upload_bytes : undefined;
  return Number.isSafeInteger(max) && max > 0 ? { max_upload_bytes: max } : null;
}
