"use client";

/** Recordings: newest first, each with its call, a player and a download link. */

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { detailHref } from "@/components/calls-table";
import { Icon } from "@/components/icons";
import { RecordingPlayer, recordingStatusNote } from "@/components/recording-player";
import { buttonClass, Card, Empty, ErrorState, Loading, PageHeader } from "@/components/ui";
import { api } from "@/lib/api";
import { formatCount, formatDateTime, formatDuration } from "@/lib/format";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 25;

export default function RecordingsPage() {
  return (
    <Suspense>
      <Recordings />
    </Suspense>
  );
}

function Recordings() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const list = useApi(`recordings:${offset}`, (s) => api.listRecordings(offset, PAGE_SIZE, s));
  const [playing, setPlaying] = useState<string | null>(null);
  const page = list.data;
  const go = (o: number) => router.push(o ? `${pathname}?offset=${o}` : pathname, { scroll: false });

  return (
    <>
      <PageHeader title="Recordings" description="Call recordings, newest first." />
      <Card title={page ? `${formatCount(page.total)} recording${page.total === 1 ? "" : "s"}` : "Recordings"}>
        {list.error ? (
          <ErrorState error={list.error} onRetry={list.reload} feature="Recordings are" endpoint="GET /api/recordings" />
        ) : !page ? (
          <Loading />
        ) : page.items.length === 0 ? (
          <Empty title="No recordings yet">Calls are recorded when recording is on; they appear here after the call.</Empty>
        ) : (
          <>
            <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {page.items.map((r) => (
                <li key={r.sid} className="py-3">
                  <div className="flex flex-wrap items-center justify-between gap-3">
                    <div className="min-w-0">
                      <Link href={detailHref(r.callId)} className="block truncate text-sm font-medium hover:underline">
                        {r.name || r.to || r.sid}
                      </Link>
                      <span className="block text-xs text-zinc-500 dark:text-zinc-400">
                        {r.name && r.to ? `${r.to} · ` : ""}
                        {formatDateTime(r.createdAt)} · {formatDuration(r.durationSecs)}
                      </span>
                    </div>
                    <div className="flex items-center gap-2">
                      {playing !== r.sid && r.status === "completed" && (
                        <button type="button" className={buttonClass.secondary} onClick={() => setPlaying(r.sid)} aria-label={`Play recording of ${r.name || r.to || r.sid}`}>
                          <Icon name="play" className="size-4" /> Play
                        </button>
                      )}
                      {r.status === "completed" ? (
                        <a href={api.recordingDownloadUrl(r.sid)} className={buttonClass.ghost} download aria-label={`Download recording of ${r.name || r.to || r.sid}`}>
                          <Icon name="download" className="size-4" />
                        </a>
                      ) : (
                        <span className="text-xs text-zinc-500 dark:text-zinc-400">{recordingStatusNote(r.status)}</span>
                      )}
                    </div>
                  </div>
                  {playing === r.sid && (
                    <div className="mt-3">
                      <RecordingPlayer recording={r} autoPlay />
                    </div>
                  )}
                </li>
              ))}
            </ul>
            <nav aria-label="Pages" className="mt-4 flex items-center justify-between gap-2 text-sm">
              <span className="text-zinc-600 dark:text-zinc-400">
                {formatCount(page.offset + 1)}–{formatCount(page.offset + page.items.length)} of {formatCount(page.total)}
              </span>
              <span className="flex gap-2">
                <button type="button" className={buttonClass.secondary} disabled={offset === 0} onClick={() => go(Math.max(0, offset - PAGE_SIZE))}>
                  Newer
                </button>
                <button type="button" className={buttonClass.secondary} disabled={page.offset + page.items.length >= page.total} onClick={() => go(offset + PAGE_SIZE)}>
                  Older
                </button>
              </span>
            </nav>
          </>
        )}
      </Card>
    </>
  );
}
