"use client";

/**
 * A recording: the browser's own audio player (keyboard accessible, seekable because the server
 * answers HTTP Range requests) and a download link. A load failure is shown, not hidden.
 */

import { useState } from "react";
import { api } from "@/lib/api";
import { formatDateTime, formatDuration, humanize } from "@/lib/format";
import type { Recording, RecordingStatus } from "@/lib/types";
import { Icon } from "./icons";
import { buttonClass } from "./ui";

/** Why a recording has no audio to play. */
export function recordingStatusNote(status: RecordingStatus): string {
  switch (status) {
    case "in-progress":
      return "Still recording";
    case "absent":
      return "Twilio has no audio for it";
    case "deleted":
      return "Deleted";
    default:
      return humanize(status);
  }
}

export function RecordingPlayer({ recording: r, autoPlay }: { recording: Recording; autoPlay?: boolean }) {
  const [failed, setFailed] = useState(false);
  if (r.status !== "completed") {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {formatDateTime(r.createdAt)} · {recordingStatusNote(r.status)}
        {r.errorCode ? ` (${r.errorCode})` : ""}
      </p>
    );
  }
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-zinc-500 dark:text-zinc-400">
        <span>
          {formatDateTime(r.createdAt)} · {formatDuration(r.durationSecs)}
          {r.channels === 2 ? " · two channels" : ""}
        </span>
        <a href={api.recordingDownloadUrl(r.sid)} className={`${buttonClass.ghost} px-2 py-1 text-xs`} download>
          <Icon name="download" className="size-4" /> Download
        </a>
      </div>
      {failed ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          The recording could not be loaded.
        </p>
      ) : (
        <audio
          controls
          preload="metadata"
          autoPlay={autoPlay}
          src={api.recordingAudioUrl(r.sid)}
          onError={() => setFailed(true)}
          className="w-full"
          aria-label={`Recording ${r.sid}`}
          data-recording-sid={r.sid}
        />
      )}
    </div>
  );
}
