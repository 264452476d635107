// Who is signed in, and the actions that change it: sign in, sign out, change language.
// The signed-in user's language is saved on the user (PATCH /api/me); before login, in this browser.
import { closeLiveEvents } from './live-events.ts';
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import * as api from './api.ts';
import { applyLanguage, rememberLanguage, type Language } from './i18n/i18n.ts';

/** Why the login page is showing, when it is not the first visit. */
export type LoginNotice = 'signed-out' | 'session-expired' | null;

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; notice: LoginNotice }
  /** enrolmentRequired: the firm requires two-step sign-in and this session may only set it up. */
  | { status: 'signed-in'; user: api.User; enrolmentRequired: boolean };

export type SessionValue = {
  state: SessionState;
  /** totp: a code from the authenticator app or a recovery code, when the server asked for one (totp_required). */
  signIn: (email: string, password: string, totp?: string) => Promise<void>;
  signOut: () => Promise<void>;
  changeLanguage: (language: Language) => Promise<void>;
  /** After the user changed their own profile (name, password): the server's copy of them. */
  replaceUser: (user: api.User) => void;
};

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const { route } = useLocation();

  const enter = useCallback(async (session: api.Session) => {
    const { user } = session;
    // The user's saved language wins over this browser's pre-login choice, and becomes it.
    await applyLanguage(user.language);
    rememberLanguage(user.language);
    setState({ status: 'signed-in', user, enrolmentRequired: session.totpEnrolmentRequired });
  }, []);

  useEffect(() => {
    let live = true;
    api
      .getSession()
      .then(async (session) => {
        if (!live) return;
        if (session) await enter(session);
        else setState({ status: 'signed-out', notice: null });
      })
      .catch(() => live && setState({ status: 'signed-out', notice: null }));
    return () => {
      live = false;
    };
  }, [enter]);

  useEffect(() => {
    api.setUnauthorizedHandler(() => {
      setState({ status: 'signed-out', notice: 'session-expired' });
      // Several requests in flight (the page, the bell, the task count) can each get the 401: only the first
      // leads to the login page, or the next one would make "the login page" the place to return to.
      if (window.location.pathname.startsWith('/login')) return;
      const next = window.location.pathname + window.location.search;
      route(`/login?next=${encodeURIComponent(next)}`, true);
    });
  }, [route]);

  const signIn = useCallback(async (email: string, password: string, totp?: string) => {
    const session = await api.login(email, password, totp);
    await enter(session);
  }, [enter]);

  const signOut = useCallback(async () => {
    await api.logout();
    closeLiveEvents();
    setState({ status: 'signed-out', notice: 'signed-out' });
    route('/login');
  }, [route]);

  const changeLanguage = useCallback(async (language: Language) => {
    if (state.status === 'signed-in') {
      const user = await api.updateMe({ language });
      await applyLanguage(user.language);
      rememberLanguage(user.language);
      setState((s) => ({ status: 'signed-in', user, enrolmentRequired: s.status === 'signed-in' && s.enrolmentRequired }));
    } else {
      await applyLanguage(language);
      rememberLanguage(language);
    }
  }, [state.status]);

  // A profile change or a finished enrolment: the server's copy of the user; enrolment is done once two-step is on.
  const replaceUser = useCallback((user: api.User) => setState((s) => ({
    status: 'signed-in', user, enrolmentRequired: s.status === 'signed-in' && s.enrolmentRequired && !user.totpEnabled,
  })), []);
  const value = useMemo(() => ({ state, signIn, signOut, changeLanguage, replaceUser }), [state, signIn, signOut, changeLanguage, replaceUser]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside <SessionProvider>');
  return value;
}

/** For pages inside the signed-in layout, where a user always exists. */
export function useUser(): api.User {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useUser outside the signed-in layout');
  return state.user;
}
