"use client";

/**
 * Make a call. The server validates everything (one source of truth); its 422 errors are shown
 * next to their fields. One idempotency key per submission, so a double click or a retry after
 * a timeout never dials twice; editing the form starts a new submission. On success the live
 * view of the new call opens.
 */

import { useRouter } from "next/navigation";
import { type FormEvent, useRef, useState } from "react";
import { Banner, buttonClass, Card, inputClass, PageHeader, Spinner } from "@/components/ui";
import { api, ApiError, newIdempotencyKey } from "@/lib/api";
import { EMPTY_FORM as EMPTY, FIELDS, type FieldName, type Form, toRequest } from "@/lib/new-call";
import { useApi } from "@/lib/use-api";

export default function MakeCallPage() {
  const router = useRouter();
  const config = useApi("config", (s) => api.config(s));
  const [form, setForm] = useState<Form>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef<string | null>(null);
  const refs = useRef<Partial<Record<FieldName, HTMLElement | null>>>({});

  function set<K extends FieldName>(k: K, v: string) {
    setForm((f) => ({ ...f, [k]: v }));
    setFieldErrors((e) => ({ ...e, [k]: undefined }));
    key.current = null; // a changed form is a new submission
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    key.current ??= newIdempotencyKey();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const call = await api.createCall(toRequest(form), key.current);
      router.push(`/live/?call=${encodeURIComponent(call.id)}`);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(0, "CLIENT_ERROR", String(err));
      const field = ae.field as FieldName | undefined;
      if (field && FIELDS.includes(field)) {
        setFieldErrors({ [field]: ae.message });
        refs.current[field]?.focus();
      } else {
        setError(ae);
      }
      // A refused call is final for this key: the next attempt is a new submission.
      if (ae.status !== 0) key.current = null;
      setBusy(false);
    }
  }

  const callerIds = config.data?.callerIds ?? [];
  const describe = (f: FieldName, hint?: boolean) =>
    [fieldErrors[f] ? `${f}-error` : null, hint ? `${f}-hint` : null].filter(Boolean).join(" ") || undefined;

  return (
    <>
      <PageHeader title="Make a call" description="Place one outbound call with the AI agent." />
      <Card className="max-w-2xl">
        {error && (
          <Banner tone="danger" testId="form-error">
            <p className="font-medium">{error.message}</p>
            <p className="mt-0.5 text-xs opacity-80">{error.code}</p>
          </Banner>
        )}
        <form onSubmit={submit} noValidate className="space-y-5">
          <Field label="Phone number" name="to" error={fieldErrors.to} hint="In international format, e.g. +61 2 9876 5432." required>
            <input
              id="to"
              ref={(el) => {
                refs.current.to = el;
              }}
              type="tel"
              autoComplete="off"
              inputMode="tel"
              required
              className={inputClass}
              value={form.to}
              onChange={(e) => set("to", e.target.value)}
              aria-invalid={fieldErrors.to ? true : undefined}
              aria-describedby={describe("to", true)}
            />
          </Field>
          <Field label="Name" name="name" error={fieldErrors.name} hint="Who you are calling; the agent may use it.">
            <input
              id="name"
              ref={(el) => {
                refs.current.name = el;
              }}
              className={inputClass}
              value={form.name}
              onChange={(e) => set("name", e.target.value)}
              aria-invalid={fieldErrors.name ? true : undefined}
              aria-describedby={describe("name", true)}
            />
          </Field>
          <Field
            label="Caller ID"
            name="callerId"
            error={fieldErrors.callerId}
            hint={
              config.error
                ? config.error.endpointMissing
                  ? "This server does not list its caller IDs yet; the call uses the server's default."
                  : `Caller IDs could not be loaded (${config.error.message}); the call uses the server's default.`
                : "The number the person sees."
            }
          >
            <select
              id="callerId"
              ref={(el) => {
                refs.current.callerId = el;
              }}
              className={inputClass}
              value={form.callerId}
              onChange={(e) => set("callerId", e.target.value)}
              disabled={config.loading}
              aria-invalid={fieldErrors.callerId ? true : undefined}
              aria-describedby={describe("callerId", true)}
            >
              <option value="">{config.data ? `Default (${config.data.defaultCallerId})` : "Server default"}</option>
              {callerIds
                .filter((n) => n !== config.data?.defaultCallerId)
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
          </Field>
          <Field label="Prompt" name="prompt" error={fieldErrors.prompt} hint="Replaces the agent's prompt for this call. Leave empty to use the agent's own.">
            <textarea
              id="prompt"
              ref={(el) => {
                refs.current.prompt = el;
              }}
              rows={5}
              className={inputClass}
              value={form.prompt}
              onChange={(e) => set("prompt", e.target.value)}
              aria-invalid={fieldErrors.prompt ? true : undefined}
              aria-describedby={describe("prompt", true)}
            />
          </Field>
          <Field label="First message" name="firstMessage" error={fieldErrors.firstMessage} hint="What the agent says when the call is answered. Leave empty to use the agent's own.">
            <textarea
              id="firstMessage"
              ref={(el) => {
                refs.current.firstMessage = el;
              }}
              rows={2}
              className={inputClass}
              value={form.firstMessage}
              onChange={(e) => set("firstMessage", e.target.value)}
              aria-invalid={fieldErrors.firstMessage ? true : undefined}
              aria-describedby={describe("firstMessage", true)}
            />
          </Field>
          <div className="flex items-center gap-3">
            <button type="submit" className={buttonClass.primary} disabled={busy || !form.to.trim()}>
              {busy ? "Calling…" : "Call"}
            </button>
            {busy && <Spinner label="Placing the call" />}
          </div>
        </form>
      </Card>
    </>
  );
}

function Field({
  label,
  name,
  error,
  hint,
  required,
  children,
}: {
  label: string;
  name: FieldName;
  error?: string;
  hint?: string;
  required?: boolean;
  children: React.ReactNode;
}) {
  return (
    <div>
      <label htmlFor={name} className="mb-1 block text-sm font-medium">
        {label}
        {required ? <span aria-hidden="true" className="text-red-600"> *</span> : <span className="font-normal text-zinc-500"> (optional)</span>}
      </label>
      {children}
      {error && (
        <p id={`${name}-error`} className="mt-1 text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      {hint && (
        <p id={`${name}-hint`} className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
          {hint}
        </p>
      )}
    </div>
  );
}
