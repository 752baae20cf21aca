"use client";

/**
 * The settings of a campaign: templates, caller id, pacing, calling windows in each contact's
 * local time, retries by outcome, the answering-machine policy and an optional end date.
 */

import type { AppConfig } from "@/lib/types";
import { type CallingWindow, type CampaignSettings, DAYS, type RetryPolicy } from "@/lib/campaign-types";
import { Field } from "./campaign-ui";
import { buttonClass, inputClass } from "./ui";

/** Defaults matching the server's. */
export function defaultSettings(): CampaignSettings {
  return {
    prompt: "",
    firstMessage: "",
    callerId: null,
    maxConcurrent: 5,
    callsPerSecond: 1,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    windows: [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" }],
    retry: {
      noAnswer: { maxAttempts: 3, delayMinutes: 60 },
      busy: { maxAttempts: 3, delayMinutes: 15 },
      failed: { maxAttempts: 2, delayMinutes: 30 },
      voicemail: { maxAttempts: 1, delayMinutes: 240 },
    },
    amdPolicy: { onMachine: "hangup", unknownAs: "human" },
    endAt: null,
  };
}

const RETRIES: { key: keyof RetryPolicy; label: string }[] = [
  { key: "noAnswer", label: "No answer" },
  { key: "busy", label: "Busy" },
  { key: "failed", label: "Failed" },
  { key: "voicemail", label: "Voicemail" },
];

function num(v: string, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export function CampaignSettingsForm({
  value,
  onChange,
  config,
  variables,
}: {
  value: CampaignSettings;
  onChange: (s: CampaignSettings) => void;
  config: AppConfig | undefined;
  variables: string[];
}) {
  const set = (patch: Partial<CampaignSettings>) => onChange({ ...value, ...patch });
  const setWindow = (i: number, w: CallingWindow) => set({ windows: value.windows.map((x, j) => (j === i ? w : x)) });
  return (
    <div className="space-y-4">
      <Field label="Agent prompt" hint={`Placeholders: {{first_name}}, {{last_name}}, {{name}}, {{phone}}, {{email}}${variables.map((v) => `, {{${v}}}`).join("")}`}>
        <textarea className={inputClass} rows={5} name="prompt" value={value.prompt ?? ""} onChange={(e) => set({ prompt: e.target.value })} />
      </Field>
      <Field label="First message">
        <input className={inputClass} name="firstMessage" value={value.firstMessage ?? ""} onChange={(e) => set({ firstMessage: e.target.value })} />
      </Field>
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Field label="Caller id">
          <select className={inputClass} value={value.callerId ?? ""} onChange={(e) => set({ callerId: e.target.value || null })}>
            <option value="">Default{config ? ` (${config.defaultCallerId})` : ""}</option>
            {config?.callerIds.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Calls at once">
          <input type="number" min={1} max={200} className={inputClass} name="maxConcurrent" value={value.maxConcurrent}
            onChange={(e) => set({ maxConcurrent: num(e.target.value, 1) })} />
        </Field>
        <Field label="Calls per second">
          <input type="number" min={0.01} max={50} step={0.1} className={inputClass} name="callsPerSecond" value={value.callsPerSecond}
            onChange={(e) => set({ callsPerSecond: num(e.target.value, 1) })} />
        </Field>
        <Field label="Default time zone" hint="For contacts whose zone is unknown">
          <input className={inputClass} name="timeZone" value={value.timeZone} onChange={(e) => set({ timeZone: e.target.value })} />
        </Field>
      </div>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium">Calling windows (each contact&apos;s local time)</legend>
        {value.windows.map((w, i) => (
          <div key={i} className="flex flex-wrap items-center gap-2 text-sm">
            {DAYS.map((d) => (
              <label key={d} className="flex items-center gap-1">
                <input type="checkbox" checked={w.days.includes(d)}
                  onChange={(e) => setWindow(i, { ...w, days: e.target.checked ? [...w.days, d] : w.days.filter((x) => x !== d) })} />
                {d}
              </label>
            ))}
            <input type="time" aria-label="Opens" className={`${inputClass} w-28`} value={w.start} onChange={(e) => setWindow(i, { ...w, start: e.target.value })} />
            <span>to</span>
            <input type="time" aria-label="Closes" className={`${inputClass} w-28`} value={w.end === "24:00" ? "23:59" : w.end}
              onChange={(e) => setWindow(i, { ...w, end: e.target.value })} />
            <button type="button" className={buttonClass.ghost} onClick={() => set({ windows: value.windows.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className={buttonClass.secondary}
          onClick={() => set({ windows: [...value.windows, { days: ["sat"], start: "10:00", end: "14:00" }] })}>
          Add a window
        </button>
        {value.windows.length === 0 && <p className="text-xs text-zinc-500">No window: contacts may be called at any hour.</p>}
      </fieldset>
      <fieldset>
        <legend className="mb-2 text-sm font-medium">Retries by outcome</legend>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {RETRIES.map(({ key, label }) => (
            <div key={key} className="text-sm">
              <span className="font-medium">{label}</span>
              <div className="mt-1 flex gap-2">
                <input type="number" min={1} max={10} aria-label={`${label}: attempts`} className={inputClass} value={value.retry[key].maxAttempts}
                  onChange={(e) => set({ retry: { ...value.retry, [key]: { ...value.retry[key], maxAttempts: num(e.target.value, 1) } } })} />
                <input type="number" min={0} aria-label={`${label}: minutes between`} className={inputClass} value={value.retry[key].delayMinutes}
                  onChange={(e) => set({ retry: { ...value.retry, [key]: { ...value.retry[key], delayMinutes: num(e.target.value, 0) } } })} />
              </div>
              <span className="text-xs text-zinc-500">attempts · minutes between</span>
            </div>
          ))}
        </div>
      </fieldset>
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
        <Field label="On an answering machine">
          <select className={inputClass} value={value.amdPolicy?.onMachine ?? "hangup"}
            onChange={(e) => set({ amdPolicy: { onMachine: e.target.value as "hangup" | "voicemail", unknownAs: value.amdPolicy?.unknownAs ?? "human" } })}>
            <option value="hangup">Hang up</option>
            <option value="voicemail">Leave a voicemail (the agent speaks)</option>
          </select>
        </Field>
        <Field label="Stop dialling at (optional)">
          <input type="datetime-local" className={inputClass} value={value.endAt ? value.endAt.slice(0, 16) : ""}
            onChange={(e) => set({ endAt: e.target.value ? new Date(e.target.value).toISOString() : null })} />
        </Field>
      </div>
    </div>
  );
}
