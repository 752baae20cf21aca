import { describe, expect, it, vi } from "vitest";
import { LiveClient, OFFLINE_GRACE_MS, type SocketLike } from "./live-client";

type Fn = (...args: never[]) => void;

/** Stands in for the network side of socket.io-client: records emits, lets the test fire events. */
class FakeSocket implements SocketLike {
  connected = false;
  active = true;
  emitted: { event: string; args: unknown[] }[] = [];
  private handlers = new Map<string, Set<Fn>>();
  private ioHandlers = new Map<string, Set<Fn>>();
  ackWith: ((payload: unknown) => [Error | null, unknown]) | null = () => [null, { ok: true }];

  on(event: string, fn: Fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(fn);
  }
  off(event: string, fn: Fn) {
    this.handlers.get(event)?.delete(fn);
  }
  emit(event: string, ...args: unknown[]) {
    this.emitted.push({ event, args });
    const ack = args[args.length - 1];
    if (typeof ack === "function" && this.ackWith) {
      const [err, res] = this.ackWith(args[0]);
      (ack as (e: Error | null, r: unknown) => void)(err, res);
    }
  }
  timeout() {
    return { emit: (event: string, ...args: unknown[]) => this.emit(event, ...args) };
  }
  connect() {}
  disconnect() {
    this.connected = false;
    this.fire("disconnect", "io client disconnect");
  }
  io = {
    on: (event: string, fn: Fn) => {
      if (!this.ioHandlers.has(event)) this.ioHandlers.set(event, new Set());
      this.ioHandlers.get(event)!.add(fn);
    },
    off: () => {},
  };
  fire(event: string, ...args: unknown[]) {
    for (const f of this.handlers.get(event) ?? []) (f as (...a: unknown[]) => void)(...args);
  }
  fireIo(event: string) {
    for (const f of this.ioHandlers.get(event) ?? []) (f as () => void)();
  }
  up() {
    this.connected = true;
    this.fire("connect");
  }
  down(reason = "transport close") {
    this.connected = false;
    this.fire("disconnect", reason);
  }
  subscribes() {
    return this.emitted.filter((e) => e.event === "subscribe").map((e) => e.args[0]);
  }
}

describe("LiveClient", () => {
  it("subscribes once per room, and again after every reconnect", () => {
    const s = new FakeSocket();
    const c = new LiveClient(s);
    c.start();
    const r1 = c.subscribe({ topic: "calls" });
    const r2 = c.subscribe({ topic: "calls" });
    c.subscribe({ topic: "call", id: "c1" });
    expect(s.subscribes()).toEqual([]); // not connected yet: nothing sent
    s.up();
    expect(s.subscribes()).toEqual([{ topic: "calls" }, { topic: "call", id: "c1" }]);
    s.down();
    expect(c.getState()).toBe("reconnecting");
    s.up();
    expect(s.subscribes()).toHaveLength(4);
    r1();
    r1(); // releasing twice counts once
    expect(s.emitted.some((e) => e.event === "unsubscribe")).toBe(false);
    r2();
    expect(s.emitted.filter((e) => e.event === "unsubscribe").map((e) => e.args[0])).toEqual([{ topic: "calls" }]);
    s.down();
    s.up();
    expect(s.subscribes().slice(4)).toEqual([{ topic: "call", id: "c1" }]);
  });

  it("sends at once when already connected", () => {
    const s = new FakeSocket();
    const c = new LiveClient(s);
    s.up();
    c.subscribe({ topic: "call", id: "x" });
    expect(s.subscribes()).toEqual([{ topic: "call", id: "x" }]);
  });

  it("reports refused subscriptions and missing acks", () => {
    const s = new FakeSocket();
    const c = new LiveClient(s);
    s.up();
    const errors: string[] = [];
    s.ackWith = () => [null, { ok: false, error: "CALL_NOT_FOUND" }];
    c.subscribe({ topic: "call", id: "nope" }, (m) => errors.push(m));
    s.ackWith = () => [new Error("timeout"), undefined];
    c.subscribe({ topic: "calls" }, (m) => errors.push(m));
    s.ackWith = () => [null, { ok: false, error: "SOMETHING_NEW" }];
    c.subscribe({ topic: "campaigns" }, (m) => errors.push(m));
    expect(errors).toEqual([
      "The server does not know this call.",
      "The server did not acknowledge the subscription.",
      "The server refused the subscription (SOMETHING_NEW).",
    ]);
  });

  it("tracks the connection state for the indicator", () => {
    const s = new FakeSocket();
    const c = new LiveClient(s);
    const seen: string[] = [];
    c.onStateChange(() => seen.push(c.getState()));
    c.start();
    s.fire("connect_error", new Error("xhr poll error"));
    expect(c.getState()).toBe("reconnecting");
    expect(c.getError()).toBe("xhr poll error");
    s.up();
    expect(c.getError()).toBeNull();
    s.down("io server disconnect");
    expect(c.getState()).toBe("refused");
    s.active = false;
    s.fire("connect_error", new Error("unauthorized"));
    expect(c.getState()).toBe("refused");
    c.stop();
    expect(seen).toEqual(["connecting", "reconnecting", "connected", "refused", "refused", "closed"]);
  });

  it("delivers and stops delivering server events", () => {
    const s = new FakeSocket();
    const c = new LiveClient(s);
    const got: unknown[] = [];
    const off = c.on<{ id: string }>("call:updated", (p) => got.push(p.id));
    s.fire("call:updated", { id: "a" });
    off();
    s.fire("call:updated", { id: "b" });
    expect(got).toEqual(["a"]);
  });
});

describe("LiveClient offline grace", () => {
  it("says offline only after the connection stayed down for a while", () => {
    vi.useFakeTimers();
    try {
      const s = new FakeSocket();
      const c = new LiveClient(s);
      c.start();
      vi.advanceTimersByTime(OFFLINE_GRACE_MS - 1);
      expect(c.isOffline()).toBe(false);
      s.up();
      vi.advanceTimersByTime(OFFLINE_GRACE_MS * 2);
      expect(c.isOffline()).toBe(false); // connected in time: never offline
      s.down();
      vi.advanceTimersByTime(OFFLINE_GRACE_MS);
      expect(c.isOffline()).toBe(true);
      s.fire("connect_error", new Error("still down"));
      expect(c.isOffline()).toBe(true);
      s.up();
      expect(c.isOffline()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
