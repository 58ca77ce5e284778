// The signed-in user: loaded from GET /api/auth/me on start; login/logout; language changes go to
// PATCH /api/auth/me so the choice follows the user to any browser.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, get, patch, post, setCsrfToken, setUnauthorizedHandler } from './client.js';
import type { Language } from '../i18n/index.js';

export type Operation = 'CanManageAdministration' | 'CanManageChats' | 'CanConnectSharedMailbox' | 'CanSyncSharedMailbox';

export interface Me {
  id: string;
  email: string;
  name: string;
  language: string;
  roleIds: string[];
  roles: { id: string; name: string }[];
  operations: Operation[];
  csrfToken: string | null;
}

interface Session {
  me: Me | null;
  loading: boolean;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  setLanguage(language: Language): Promise<void>;
  /** PATCH /api/auth/me and adopt the answer, so the header and forms show the saved values. */
  updateMe(body: { name?: string }): Promise<void>;
  can(op: Operation): boolean;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const qc = useQueryClient();

  const adopt = useCallback((m: Me | null) => {
    setCsrfToken(m?.csrfToken ?? null);
    setMe(m);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      adopt(null);
      qc.clear();
    });
    get<Me>('/api/auth/me')
      .then(adopt)
      .catch((e) => {
        if (!(e instanceof ApiError) || e.status !== 401) console.warn(e);
        adopt(null);
      })
      .finally(() => setLoading(false));
  }, [adopt, qc]);

  const session: Session = {
    me,
    loading,
    async login(email, password) {
      adopt(await post<Me>('/api/auth/login', { email, password }));
    },
    async logout() {
      try {
        await post('/api/auth/logout');
      } finally {
        adopt(null);
        qc.clear();
      }
    },
    async setLanguage(language) {
      if (!me) return;
      const next = await patch<Me>('/api/auth/me', { language });
      adopt({ ...next, csrfToken: next.csrfToken ?? me.csrfToken });
    },
    async updateMe(body) {
      if (!me) return;
      const next = await patch<Me>('/api/auth/me', body);
      adopt({ ...me, ...next, csrfToken: next.csrfToken ?? me.csrfToken });
    },
    can: (op) => !!me?.operations.includes(op),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('not signed in');
  return me;
}
