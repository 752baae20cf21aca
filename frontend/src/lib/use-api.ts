"use client";

/**
 * `useApi`: one way for pages to load data — loading, error and data are explicit states, a
 * newer request cancels the older one, and `reload` asks again. Pages render each state; none
 * substitutes sample data for an error.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "./api";

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `fetcher` whenever `key` changes (null: do not load). Keep the previous data while
 * reloading so a refresh does not blank the page.
 */
export function useApi<T>(key: string | null, fetcher: (signal: AbortSignal) => Promise<T>): ApiState<T> {
  const [nonce, setNonce] = useState(0);
  const token = key === null ? null : `${nonce}#${key}`;
  const [result, setResult] = useState<{ token: string | null; data: T | undefined; error: ApiError | null }>({
    token: null,
    data: undefined,
    error: null,
  });
  const fetcherRef = useRef(fetcher);
  useEffect(() => {
    fetcherRef.current = fetcher;
  });

  useEffect(() => {
    if (token === null) return;
    const ctl = new AbortController();
    fetcherRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setResult({ token, data, error: null });
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        const error = e instanceof ApiError ? e : new ApiError(0, "CLIENT_ERROR", String(e));
        setResult((r) => ({ token, data: r.data, error }));
      },
    );
    return () => ctl.abort();
  }, [token]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  // Until the answer for the current key arrives, keep showing the previous one (no blank flash),
  // but never the previous key's error.
  const current = result.token === token;
  return {
    data: result.data,
    error: current ? result.error : null,
    loading: token !== null && !current,
    reload,
  };
}
