"use client";

/** Cycles the theme: system → light → dark. */

import { useSyncExternalStore } from "react";
import { applyChoice, readChoice, subscribeChoice, type ThemeChoice } from "@/lib/theme";
import { Icon } from "./icons";

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };
const LABEL: Record<ThemeChoice, string> = { system: "System theme", light: "Light theme", dark: "Dark theme" };
const ICON = { system: "system", light: "sun", dark: "moon" } as const;

export function ThemeToggle() {
  const choice = useSyncExternalStore<ThemeChoice>(subscribeChoice, readChoice, () => "system");
  const next = NEXT[choice];
  return (
    <button
      type="button"
      onClick={() => applyChoice(next)}
      className="inline-flex items-center gap-2 rounded-lg px-2 py-1.5 text-xs text-zinc-600 hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-zinc-800"
      aria-label={`${LABEL[choice]} (switch to ${LABEL[next].toLowerCase()})`}
      title={`Switch to ${LABEL[next].toLowerCase()}`}
    >
      <Icon name={ICON[choice]} className="size-4" />
      <span>{LABEL[choice]}</span>
    </button>
  );
}
