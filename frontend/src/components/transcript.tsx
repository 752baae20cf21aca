"use client";

/**
 * Transcript views: the live transcript (whole lines with what the caller heard of each agent
 * line) and the post-call transcript from the agent platform. Both keep roles and times.
 */

import { useEffect, useRef } from "react";
import { formatOffset, heardNote } from "@/lib/format";
import type { PostCallTurn, Role, TranscriptLine } from "@/lib/types";

function Bubble({ role, time, children, note, muted, heard }: { role: Role; time: string; children: React.ReactNode; note?: string | null; muted?: boolean; heard?: string }) {
  const agent = role === "agent";
  return (
    <li className={`flex ${agent ? "justify-start" : "justify-end"}`} data-role={role} data-heard={heard}>
      <div className={`max-w-[85%] sm:max-w-[75%]`}>
        <div className={`mb-1 flex items-baseline gap-2 text-xs text-zinc-500 dark:text-zinc-400 ${agent ? "" : "justify-end"}`}>
          <span className="font-medium text-zinc-700 dark:text-zinc-300">{agent ? "Agent" : "Caller"}</span>
          <time className="tabular-nums">{time}</time>
        </div>
        <div
          className={`rounded-2xl px-3.5 py-2 text-sm leading-relaxed ${
            agent
              ? "rounded-tl-sm bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100"
              : "rounded-tr-sm bg-indigo-600 text-white"
          } ${muted ? "opacity-60" : ""}`}
        >
          {children}
        </div>
        {note && <p className={`mt-1 text-xs text-amber-700 dark:text-amber-400 ${agent ? "" : "text-right"}`}>{note}</p>}
      </div>
    </li>
  );
}

/** The live transcript; follows new lines unless the reader has scrolled up. */
export function LiveTranscript({ lines, emptyText = "No one has spoken yet." }: { lines: TranscriptLine[]; emptyText?: string }) {
  const box = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  if (!lines.length) return <p className="py-8 text-center text-sm text-zinc-500 dark:text-zinc-400">{emptyText}</p>;
  return (
    <ol
      ref={box}
      role="log"
      aria-label="Transcript"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
      className="max-h-[60vh] space-y-3 overflow-y-auto pr-1 focus-visible:outline-2 focus-visible:outline-indigo-500"
    >
      {lines.map((l) => {
        const unheard = l.heard === "not_heard";
        return (
          <Bubble key={l.index} role={l.role} time={formatOffset(l.timeInCallMs)} note={heardNote(l.heard, l.heardMs, l.audioMs)} muted={unheard || l.heard === "pending"} heard={l.heard}>
            {unheard ? <s>{l.text}</s> : l.text}
          </Bubble>
        );
      })}
    </ol>
  );
}

/** The transcript the agent platform returned after the call. */
export function PostCallTranscript({ turns }: { turns: PostCallTurn[] }) {
  if (!turns.length) return <p className="py-8 text-center text-sm text-zinc-500 dark:text-zinc-400">The transcript is empty.</p>;
  return (
    <ol aria-label="Transcript" className="space-y-3">
      {turns.map((t, i) => (
        <Bubble key={i} role={t.role} time={formatOffset(t.timeInCallSecs * 1000)} note={t.interrupted ? "Interrupted by the caller" : null}>
          {t.message}
        </Bubble>
      ))}
    </ol>
  );
}
