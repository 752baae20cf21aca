"use client";

/**
 * The Socket.IO provider (one connection per tab, opened once the user is logged in) and the
 * hooks pages use for live data. When the live connection is down, the hooks fall back to
 * polling the REST API and say so, so a page never shows stale data as if it were live.
 */

import { io } from "socket.io-client";
import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from "react";
import { api, ApiError } from "./api";
import { type ConnectionState, LiveClient, type SocketLike } from "./live-client";
import {
  applyCall,
  applySnapshot,
  isTerminal,
  type LiveCalls,
  mergeLine,
  mergeLiveCall,
  mergeTranscripts,
  pruneEnded,
  sortedCalls,
  transcriptFromEvents,
} from "./live-state";
import type { Call, CallSnapshot, LiveCall, TranscriptEvent, TranscriptLine } from "./types";

/** How often live lists are re-read over REST while the live connection is down. */
export const POLL_MS = 5_000;
/** How often one live call is re-read over REST while the live connection is down. */
export const CALL_POLL_MS = 3_000;

const SocketContext = createContext<LiveClient | null>(null);

/**
 * Holds the tab's one live connection. Mount it once, inside the logged-in part of the app: it
 * connects on mount and disconnects on unmount (logout).
 */
export function SocketProvider({ children }: { children: ReactNode }) {
  // Created once per mount (never during the static prerender, where there is no window).
  const [client] = useState<LiveClient | null>(() => {
    if (typeof window === "undefined") return null;
    // Same origin; the session cookie authenticates the handshake (`auth: {}` carries no token).
    const socket = io({ path: "/socket.io/", auth: {}, withCredentials: true, autoConnect: false, reconnectionDelayMax: 10_000 });
    return new LiveClient(socket as unknown as SocketLike);
  });
  useEffect(() => {
    client?.start();
    return () => client?.stop();
  }, [client]);
  return <SocketContext.Provider value={client}>{children}</SocketContext.Provider>;
}

/** The live client, or null before login. */
export function useLiveClient(): LiveClient | null {
  return useContext(SocketContext);
}

const noop = () => () => {};

/** The live connection's state and last error, for the indicator and for fallbacks. */
export function useConnection(): { state: ConnectionState; error: string | null; offline: boolean; retry: () => void } {
  const client = useLiveClient();
  const state = useSyncExternalStore(
    client ? (f) => client.onStateChange(f) : noop,
    () => client?.getState() ?? "closed",
    () => "connecting" as ConnectionState,
  );
  const error = useSyncExternalStore(
    client ? (f) => client.onStateChange(f) : noop,
    () => client?.getError() ?? null,
    () => null,
  );
  const offline = useSyncExternalStore(
    client ? (f) => client.onStateChange(f) : noop,
    () => client?.isOffline() ?? true,
    () => false,
  );
  return { state, error, offline, retry: () => client?.retry() };
}

/** A clock that ticks every `ms`, for elapsed times. */
export function useNow(ms = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** The live-call fields of a stored call. */
export function toLiveCall(c: Call): LiveCall {
  return {
    id: c.id,
    callSid: c.callSid,
    to: c.to,
    from: c.from,
    name: c.name,
    status: c.status,
    answeredBy: c.answeredBy,
    outcome: c.outcome,
    terminatedBy: c.terminatedBy,
    createdAt: c.createdAt,
    answeredAt: c.answeredAt,
    endedAt: c.endedAt,
    campaignId: c.campaignId,
    contactId: c.contactId,
    conversationId: c.conversationId,
  };
}

/** Where live data comes from right now. */
export type LiveSource = "socket" | "polling";

export interface LiveCallsView {
  calls: LiveCall[];
  /** True once the first snapshot (socket or REST) arrived. */
  loaded: boolean;
  source: LiveSource;
  error: ApiError | null;
  /** Increments whenever a call starts or ends (pages refresh their lists on it). */
  version: number;
}

/** Every live call, from the `calls` room (or `GET /api/calls/active` while offline). */
export function useLiveCalls(): LiveCallsView {
  const client = useLiveClient();
  const { offline } = useConnection();
  const [calls, setCalls] = useState<LiveCalls>(() => new Map());
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [subError, setSubError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const source: LiveSource = offline || subError ? "polling" : "socket";

  useEffect(() => {
    if (!client) return;
    const offs = [
      client.on<LiveCall[]>("calls:snapshot", (snap) => {
        setCalls((c) => applySnapshot(c, snap, Date.now()));
        setLoaded(true);
        setError(null);
        setVersion((v) => v + 1);
      }),
      client.on<LiveCall>("call:created", (c) => {
        setCalls((m) => applyCall(m, c));
        setVersion((v) => v + 1);
      }),
      client.on<LiveCall>("call:updated", (c) => setCalls((m) => applyCall(m, c))),
      client.on<LiveCall>("call:ended", (c) => {
        setCalls((m) => applyCall(m, c));
        setVersion((v) => v + 1);
      }),
    ];
    const release = client.subscribe({ topic: "calls" }, setSubError);
    return () => {
      release();
      offs.forEach((f) => f());
    };
  }, [client]);

  useEffect(() => {
    if (source !== "polling") return;
    const ctl = new AbortController();
    const poll = async () => {
      try {
        const snap = await api.activeCalls(ctl.signal);
        setCalls((c) => {
          const next = applySnapshot(c, snap, Date.now());
          if (next.size !== c.size) setVersion((v) => v + 1);
          return next;
        });
        setError(null);
        setLoaded(true);
      } catch (e) {
        if (e instanceof ApiError) setError(e);
      }
    };
    void poll();
    const t = setInterval(poll, POLL_MS);
    return () => {
      clearInterval(t);
      ctl.abort();
    };
  }, [source]);

  useEffect(() => {
    const t = setInterval(() => setCalls((c) => pruneEnded(c, Date.now())), 5_000);
    return () => clearInterval(t);
  }, []);

  return { calls: sortedCalls(calls), loaded, source, error, version };
}

export interface CallLiveView {
  call: LiveCall | null;
  transcript: TranscriptLine[];
  loaded: boolean;
  source: LiveSource;
  error: ApiError | null;
}

/**
 * One call and its transcript as it runs, from the `call:<id>` room (or, while offline, from
 * `GET /api/calls/{id}` and its stored transcript events).
 */
export function useCallLive(id: string | null): CallLiveView {
  const client = useLiveClient();
  const { offline } = useConnection();
  const [view, setView] = useState<{ id: string | null; call: LiveCall | null; transcript: TranscriptLine[] }>({
    id,
    call: null,
    transcript: [],
  });
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [subError, setSubError] = useState<string | null>(null);
  const source: LiveSource = offline || subError ? "polling" : "socket";

  // A different call: start from nothing rather than show the previous call's lines.
  if (view.id !== id) {
    setView({ id, call: null, transcript: [] });
    setLoaded(false);
    setError(null);
    setSubError(null);
  }

  useEffect(() => {
    if (!client || !id) return;
    const mine = (c: LiveCall) => c.id === id;
    const onCall = (c: LiveCall) => {
      if (mine(c)) setView((v) => (v.id === id ? { ...v, call: mergeLiveCall(v.call ?? undefined, c) } : v));
    };
    const offs = [
      client.on<CallSnapshot>("call:snapshot", (s) => {
        if (!mine(s.call)) return;
        setView((v) =>
          v.id === id
            ? { id, call: mergeLiveCall(v.call ?? undefined, s.call), transcript: mergeTranscripts(v.transcript, s.transcript) }
            : v,
        );
        setLoaded(true);
      }),
      client.on<LiveCall>("call:created", onCall),
      client.on<LiveCall>("call:updated", onCall),
      client.on<LiveCall>("call:ended", onCall),
      client.on<TranscriptEvent>("call:transcript", (e) => {
        if (e.callId === id) setView((v) => (v.id === id ? { ...v, transcript: mergeLine(v.transcript, e.line) } : v));
      }),
    ];
    const release = client.subscribe({ topic: "call", id }, setSubError);
    return () => {
      release();
      offs.forEach((f) => f());
    };
  }, [client, id]);

  const ended = view.call !== null && isTerminal(view.call.status);
  useEffect(() => {
    // Offline: read the call over REST until it has ended (its final state is then stored).
    if (!id || source !== "polling" || ended) return;
    const ctl = new AbortController();
    const poll = async () => {
      try {
        const [call, events] = await Promise.all([api.getCall(id, ctl.signal), api.callEvents(id, ctl.signal)]);
        const lines = transcriptFromEvents(events);
        setView((v) =>
          v.id === id
            ? { id, call: mergeLiveCall(v.call ?? undefined, toLiveCall(call)), transcript: mergeTranscripts(v.transcript, lines) }
            : v,
        );
        setError(null);
        setLoaded(true);
      } catch (e) {
        if (e instanceof ApiError) {
          setError(e);
          setLoaded(true);
        }
      }
    };
    void poll();
    const t = setInterval(poll, CALL_POLL_MS);
    return () => {
      clearInterval(t);
      ctl.abort();
    };
  }, [id, source, ended]);

  return { call: view.call, transcript: view.transcript, loaded, source, error };
}
