"use client";

/**
 * Live campaign progress: the `campaigns` room (every active campaign: `campaigns:snapshot`,
 * then `campaign:progress`) and one campaign's room (`campaign:<id>`). While the live connection
 * is down the pages poll the REST API instead, so progress never freezes silently.
 */

import { useEffect, useState } from "react";
import { campaignApi } from "./api-campaigns";
import type { Progress } from "./campaign-types";
import { POLL_MS, useConnection, useLiveClient } from "./socket";

/** The latest progress of every campaign heard of, by id. */
export function useCampaignsProgress(): Map<string, Progress> {
  const client = useLiveClient();
  const [map, setMap] = useState<Map<string, Progress>>(() => new Map());
  useEffect(() => {
    if (!client) return;
    const put = (p: Progress) => setMap((m) => new Map(m).set(p.campaignId, p));
    const offs = [
      client.on<Progress[]>("campaigns:snapshot", (all) => setMap((m) => {
        const next = new Map(m);
        for (const p of all) next.set(p.campaignId, p);
        return next;
      })),
      client.on<Progress>("campaign:progress", put),
    ];
    const release = client.subscribe({ topic: "campaigns" });
    return () => {
      release();
      offs.forEach((f) => f());
    };
  }, [client]);
  return map;
}

/** One campaign's progress: live from its room, polled from the API while offline. */
export function useCampaignProgress(id: string, initial: Progress | undefined): Progress | undefined {
  const client = useLiveClient();
  const { offline } = useConnection();
  const [live, setLive] = useState<Progress | undefined>(undefined);
  useEffect(() => {
    if (!client) return;
    const off = client.on<Progress>("campaign:progress", (p) => {
      if (p.campaignId === id) setLive(p);
    });
    const release = client.subscribe({ topic: "campaign", id });
    return () => {
      release();
      off();
    };
  }, [client, id]);
  useEffect(() => {
    if (!offline) return;
    const ctl = new AbortController();
    const poll = () => campaignApi.progress(id, ctl.signal).then(setLive, () => undefined);
    void poll();
    const t = setInterval(poll, POLL_MS);
    return () => {
      clearInterval(t);
      ctl.abort();
    };
  }, [offline, id]);
  if (!live) return initial;
  if (!initial) return live;
  return Date.parse(live.updatedAt) >= Date.parse(initial.updatedAt) ? live : initial;
}
