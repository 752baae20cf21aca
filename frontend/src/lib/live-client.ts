/**
 * The dashboard's one Socket.IO connection, wrapped: connection state for the indicator,
 * reference-counted room subscriptions that are sent again after every reconnect (each
 * `subscribe` answers with a fresh snapshot, so nothing missed while offline stays missing),
 * and typed event listeners.
 *
 * It takes any socket with socket.io-client's shape, so its logic is unit-tested without a
 * server; `socket.tsx` gives it the real `io()` socket.
 */

import type { SubscribeAck, Subscription } from "./types";

/** What the connection indicator shows. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "refused" | "closed";

/** How long the server has to acknowledge a subscription. */
export const ACK_TIMEOUT_MS = 5_000;
/**
 * How long the connection may be down before pages switch to polling: a page load or a short
 * blip is not worth a burst of REST requests and a warning.
 */
export const OFFLINE_GRACE_MS = 3_000;

type Listener = (...args: never[]) => void;

/** The parts of socket.io-client's `Socket` used here. */
export interface SocketLike {
  readonly connected: boolean;
  /** False once the client has given up reconnecting (e.g. the server refused the handshake). */
  readonly active: boolean;
  on(event: string, fn: Listener): unknown;
  off(event: string, fn: Listener): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  timeout(ms: number): { emit(event: string, ...args: unknown[]): unknown };
  connect(): unknown;
  disconnect(): unknown;
  readonly io: { on(event: string, fn: Listener): unknown; off(event: string, fn: Listener): unknown };
}

interface Entry {
  sub: Subscription;
  refs: number;
  onError: Set<(message: string) => void>;
}

function keyOf(sub: Subscription): string {
  return sub.id ? `${sub.topic}:${sub.id}` : sub.topic;
}

const SUBSCRIBE_ERRORS: Record<string, string> = {
  CALL_NOT_FOUND: "The server does not know this call.",
  UNKNOWN_TOPIC: "The server does not offer these live updates.",
  ID_REQUIRED: "The subscription needs an id.",
  INVALID_PAYLOAD: "The server did not understand the subscription.",
  UNAVAILABLE: "The server could not send the current state.",
};

/** A refused subscription's code (`CALL_NOT_FOUND`, ...) for people. */
export function subscribeErrorMessage(code: string | undefined): string {
  return (code && SUBSCRIBE_ERRORS[code]) || `The server refused the subscription${code ? ` (${code})` : ""}.`;
}

/** State and subscriptions over one socket. */
export class LiveClient {
  private state: ConnectionState = "closed";
  private lastError: string | null = null;
  private readonly subs = new Map<string, Entry>();
  private readonly stateListeners = new Set<() => void>();

  constructor(private readonly socket: SocketLike) {
    this.listen(socket, "connect", () => {
      this.lastError = null;
      this.setState("connected");
      for (const e of this.subs.values()) this.sendSubscribe(e);
    });
    this.listen(socket, "disconnect", (reason: string) => {
      // "io server disconnect": the server closed us on purpose; the client will not retry.
      if (reason === "io server disconnect") {
        this.lastError = "The server closed the live connection.";
        this.setState("refused");
      } else if (reason === "io client disconnect") {
        this.setState("closed");
      } else {
        this.lastError = `Connection lost (${reason}).`;
        this.setState("reconnecting");
      }
    });
    this.listen(socket, "connect_error", (err: Error) => {
      this.lastError = err?.message || "Could not connect.";
      // `active` false: the handshake was refused (not authorised) and the client stops trying.
      this.setState(socket.active ? "reconnecting" : "refused");
    });
    this.listen(socket.io, "reconnect_attempt", () => {
      if (this.state !== "connected") this.setState("reconnecting");
    });
  }

  private listen(
    target: { on(e: string, f: Listener): unknown },
    event: string,
    fn: (...args: never[]) => void,
  ): void {
    target.on(event, fn);
  }

  private notified: [ConnectionState, string | null, boolean] = ["closed", null, false];
  private offline = false;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;

  private setState(s: ConnectionState): void {
    this.state = s;
    if (s === "connected" || s === "closed") {
      this.offline = false;
      this.clearGrace();
    } else if (!this.offline && !this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = null;
        this.offline = true;
        this.emitIfChanged();
      }, OFFLINE_GRACE_MS);
    }
    this.emitIfChanged();
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /** Tells listeners when the state, its error or `offline` changed (not on repeats). */
  private emitIfChanged(): void {
    const [s, e, o] = this.notified;
    if (s !== this.state || e !== this.lastError || o !== this.offline) {
      this.notified = [this.state, this.lastError, this.offline];
      this.notify();
    }
  }

  private notify(): void {
    for (const l of this.stateListeners) l();
  }

  private sendSubscribe(e: Entry): void {
    this.socket.timeout(ACK_TIMEOUT_MS).emit("subscribe", e.sub, (err: Error | null, ack?: SubscribeAck) => {
      // The entry may have been released (or replaced) while the ack was on its way.
      if (this.subs.get(keyOf(e.sub)) !== e) return;
      let message: string | null = null;
      if (err) message = "The server did not acknowledge the subscription.";
      else if (!ack || ack.ok !== true) message = subscribeErrorMessage(ack?.error);
      if (message) for (const f of e.onError) f(message);
    });
  }

  /** Current connection state. */
  getState(): ConnectionState {
    return this.state;
  }

  /** True once the connection has been down for {@link OFFLINE_GRACE_MS}: pages should poll. */
  isOffline(): boolean {
    return this.offline;
  }

  /** Why the connection is not up, if known. */
  getError(): string | null {
    return this.lastError;
  }

  /** Calls `fn` on every state change; returns the unsubscribe function. */
  onStateChange(fn: () => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /**
   * Joins a room (once, however many components ask) and keeps it joined across reconnects.
   * `onError` hears refusals. Returns the release function; the room is left on the last release.
   */
  subscribe(sub: Subscription, onError?: (message: string) => void): () => void {
    const key = keyOf(sub);
    let entry = this.subs.get(key);
    const first = !entry;
    if (!entry) {
      entry = { sub, refs: 0, onError: new Set() };
      this.subs.set(key, entry);
    }
    entry.refs += 1;
    if (onError) entry.onError.add(onError);
    if (first && this.socket.connected) this.sendSubscribe(entry);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.refs -= 1;
      if (onError) entry.onError.delete(onError);
      if (entry.refs === 0 && this.subs.get(key) === entry) {
        this.subs.delete(key);
        if (this.socket.connected) this.socket.emit("unsubscribe", entry.sub);
      }
    };
  }

  /** Listens to a server event; returns the function that stops listening. */
  on<T>(event: string, fn: (payload: T) => void): () => void {
    const f = fn as Listener;
    this.socket.on(event, f);
    return () => this.socket.off(event, f);
  }

  /** Opens the connection (socket.io-client then reconnects by itself with backoff). */
  start(): void {
    this.setState("connecting");
    this.socket.connect();
  }

  /** Tries again after a refusal (e.g. after logging in again). */
  retry(): void {
    this.start();
  }

  /** Closes the connection; subscriptions and listeners stay, so `start` resumes them. */
  stop(): void {
    this.socket.disconnect();
    this.setState("closed");
  }
}
