/**
 * Small building blocks shared by every page: badges, cards, page headers, buttons and the
 * loading / error / empty / unavailable states (real states — never sample data).
 */

import type { ReactNode } from "react";
import { ApiError } from "@/lib/api";
import { outcomeLabel, outcomeTone, statusLabel, statusTone, type Tone } from "@/lib/format";
import type { CallStatus, Outcome } from "@/lib/types";
import { Icon } from "./icons";

const TONES: Record<Tone, string> = {
  neutral: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700",
  info: "bg-sky-50 text-sky-800 ring-sky-300 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800",
  progress: "bg-indigo-50 text-indigo-800 ring-indigo-300 dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800",
  success: "bg-emerald-50 text-emerald-800 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800",
  warning: "bg-amber-50 text-amber-900 ring-amber-300 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800",
  danger: "bg-red-50 text-red-800 ring-red-300 dark:bg-red-950 dark:text-red-300 dark:ring-red-800",
};

export function Badge({ tone = "neutral", children, pulse }: { tone?: Tone; children: ReactNode; pulse?: boolean }) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[tone]}`}
    >
      {pulse && <span aria-hidden="true" className="size-1.5 animate-pulse rounded-full bg-current" />}
      {children}
    </span>
  );
}

export function StatusBadge({ status }: { status: CallStatus }) {
  return (
    <Badge tone={statusTone(status)} pulse={status === "in-progress" || status === "ringing"}>
      {statusLabel(status)}
    </Badge>
  );
}

export function OutcomeBadge({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return <span className="text-zinc-400 dark:text-zinc-500">—</span>;
  return <Badge tone={outcomeTone(outcome)}>{outcomeLabel(outcome)}</Badge>;
}

export function Card({ title, actions, children, className = "" }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900 ${className}`}>
      {(title || actions) && (
        <header className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
          {title && <h2 className="text-sm font-semibold text-zinc-900 dark:text-zinc-100">{title}</h2>}
          {actions && <div className="flex items-center gap-2">{actions}</div>}
        </header>
      )}
      <div className="p-4">{children}</div>
    </section>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">{title}</h1>
        {description && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}

const BUTTON_BASE =
  "inline-flex items-center justify-center gap-2 rounded-lg px-3 py-2 text-sm font-medium transition focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-50";

export const buttonClass = {
  primary: `${BUTTON_BASE} bg-indigo-600 text-white hover:bg-indigo-500`,
  secondary: `${BUTTON_BASE} border border-zinc-300 bg-white text-zinc-800 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800`,
  danger: `${BUTTON_BASE} bg-red-600 text-white hover:bg-red-500`,
  ghost: `${BUTTON_BASE} text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800`,
};

export const inputClass =
  "block w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm text-zinc-900 placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500/40 aria-[invalid=true]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100 dark:placeholder:text-zinc-500";

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-zinc-500 dark:text-zinc-400">
      <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
      {label}…
    </span>
  );
}

export function Loading({ label }: { label?: string }) {
  return (
    <div className="flex justify-center py-10">
      <Spinner label={label} />
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="py-10 text-center">
      <p className="text-sm font-medium text-zinc-800 dark:text-zinc-200">{title}</p>
      {children && <div className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">{children}</div>}
    </div>
  );
}

/** A feature whose API this server does not have yet. */
export function Unavailable({ feature, endpoint }: { feature: string; endpoint?: string }) {
  return (
    <div className="py-8 text-center" role="note">
      <p className="text-sm font-medium text-zinc-800 dark:text-zinc-200">{feature} not available on this server yet.</p>
      {endpoint && <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">The server has no <code>{endpoint}</code> endpoint.</p>}
    </div>
  );
}

/** An error from the API, with a retry button; a missing endpoint becomes {@link Unavailable}. */
export function ErrorState({ error, onRetry, feature, endpoint }: { error: ApiError; onRetry?: () => void; feature?: string; endpoint?: string }) {
  if (error.endpointMissing && feature) return <Unavailable feature={feature} endpoint={endpoint} />;
  return (
    <div role="alert" className="flex flex-col items-center gap-3 py-8 text-center">
      <Icon name="alert" className="size-6 text-red-500" />
      <div>
        <p className="text-sm font-medium text-zinc-900 dark:text-zinc-100">{error.message}</p>
        <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
          {error.code}
          {error.status ? ` · HTTP ${error.status}` : ""}
        </p>
      </div>
      {onRetry && (
        <button type="button" className={buttonClass.secondary} onClick={onRetry}>
          <Icon name="refresh" className="size-4" /> Try again
        </button>
      )}
    </div>
  );
}

/** An inline notice above content. */
export function Banner({ tone = "warning", children, testId }: { tone?: "warning" | "danger" | "info"; children: ReactNode; testId?: string }) {
  const cls = {
    warning: "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950/60 dark:text-amber-200",
    danger: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200",
    info: "border-sky-300 bg-sky-50 text-sky-900 dark:border-sky-800 dark:bg-sky-950/60 dark:text-sky-200",
  }[tone];
  return (
    <div role={tone === "danger" ? "alert" : "status"} data-testid={testId} className={`mb-4 rounded-lg border px-4 py-3 text-sm wrap-anywhere ${cls}`}>
      {children}
    </div>
  );
}

/** A label/value pair in a facts grid. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 wrap-anywhere text-sm text-zinc-900 dark:text-zinc-100">{children}</dd>
    </div>
  );
}
