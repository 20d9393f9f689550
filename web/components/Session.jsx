'use client';
import { createContext, useContext } from 'react';

export const SessionContext = createContext({
  user: null,
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
