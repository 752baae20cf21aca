"use client";

/** Hang up a live call, with a confirmation step (an accidental click would cut off a caller). */

import { useState } from "react";
import { api, ApiError } from "@/lib/api";
import { Icon } from "./icons";
import { buttonClass } from "./ui";

export function HangupButton({ callId, onDone }: { callId: string; onDone?: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [requested, setRequested] = useState(false);

  async function hangUp() {
    setBusy(true);
    setError(null);
    try {
      await api.hangup(callId);
      setRequested(true);
      onDone?.();
    } catch (e) {
      const ae = e instanceof ApiError ? e : null;
      if (ae?.code === "CALL_ALREADY_ENDED") setError("The call has already ended.");
      else if (ae?.code === "CALL_NOT_DIALLED") setError("The call was never dialled.");
      else setError(ae?.message ?? "Could not hang up.");
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  if (requested) return <p role="status" className="text-sm text-zinc-600 dark:text-zinc-400">Hang-up requested…</p>;
  return (
    <div className="flex flex-wrap items-center gap-2">
      {confirming ? (
        <>
          <span className="text-sm">Hang up this call?</span>
          <button type="button" className={buttonClass.danger} onClick={hangUp} disabled={busy} autoFocus>
            <Icon name="hangup" className="size-4" /> {busy ? "Hanging up…" : "Yes, hang up"}
          </button>
          <button type="button" className={buttonClass.secondary} onClick={() => setConfirming(false)} disabled={busy}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className={buttonClass.danger} onClick={() => setConfirming(true)}>
          <Icon name="hangup" className="size-4" /> Hang up
        </button>
      )}
      {error && (
        <p role="alert" className="w-full text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}
