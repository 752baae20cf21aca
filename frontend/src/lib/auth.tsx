"use client";

/**
 * Who is logged in. On load it asks `GET /api/auth/me`; any API answer of 401 (an expired
 * session) sends the user to the login page with a `next` link back to where they were.
 */

import { usePathname, useRouter } from "next/navigation";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { api, ApiError, setUnauthorizedHandler } from "./api";
import type { Me } from "./types";

export type AuthState =
  | { status: "loading" }
  | { status: "authenticated"; user: Me }
  | { status: "anonymous" }
  | { status: "error"; error: ApiError };

interface AuthContextValue {
  auth: AuthState;
  /** After a successful login. */
  loggedIn: (user: Me) => void;
  logout: () => Promise<void>;
  /** Asks the server again (after a network error). */
  recheck: () => void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export const LOGIN_PATH = "/login/";

/** The login URL that returns to `path` afterwards. */
export function loginUrl(path: string): string {
  return path && path !== "/" && !path.startsWith("/login") ? `${LOGIN_PATH}?next=${encodeURIComponent(path)}` : LOGIN_PATH;
}

/** Only same-site paths are followed after login (no open redirect). */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [auth, setAuth] = useState<AuthState>({ status: "loading" });
  const [nonce, setNonce] = useState(0);
  const router = useRouter();
  const pathname = usePathname();

  useEffect(() => {
    const ctl = new AbortController();
    api.me(ctl.signal).then(
      (user) => setAuth({ status: "authenticated", user }),
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        if (e instanceof ApiError && e.unauthorized) setAuth({ status: "anonymous" });
        else setAuth({ status: "error", error: e instanceof ApiError ? e : new ApiError(0, "CLIENT_ERROR", String(e)) });
      },
    );
    return () => ctl.abort();
  }, [nonce]);

  useEffect(() => {
    setUnauthorizedHandler(() => setAuth({ status: "anonymous" }));
    return () => setUnauthorizedHandler(null);
  }, []);

  const onLoginPage = pathname.startsWith("/login");
  useEffect(() => {
    if (auth.status === "anonymous" && !onLoginPage) {
      const here = window.location.pathname + window.location.search;
      router.replace(loginUrl(here));
    }
  }, [auth.status, onLoginPage, router]);

  const loggedIn = useCallback((user: Me) => setAuth({ status: "authenticated", user }), []);
  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setAuth({ status: "anonymous" });
    }
  }, []);
  const recheck = useCallback(() => {
    setAuth({ status: "loading" });
    setNonce((n) => n + 1);
  }, []);

  return <AuthContext.Provider value={{ auth, loggedIn, logout, recheck }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error("useAuth outside AuthProvider");
  return v;
}
