"use client";

/**
 * Choosing a contacts CSV and reviewing it before anything is written: the file is sent to
 * `POST /api/contacts/import/preview`, which answers how the columns are read (changeable here),
 * invalid rows with the reason, duplicates within the file, numbers on the do-not-call list and
 * contacts that already exist. The parent commits with the report's `fileSha256`.
 */

import { useState } from "react";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import type { ColumnChoice, ImportReport } from "@/lib/campaign-types";
import { formatCount } from "@/lib/format";
import { Field } from "./campaign-ui";
import { Banner, inputClass, Spinner } from "./ui";

/** A reviewed file: what to commit. */
export interface ReviewedFile {
  file: File;
  columns: ColumnChoice;
  report: ImportReport;
}

const FIELDS: { key: keyof ColumnChoice; label: string; mapped: keyof ImportReport["mapping"] }[] = [
  { key: "phoneColumn", label: "Phone", mapped: "phone" },
  { key: "firstNameColumn", label: "First name", mapped: "firstName" },
  { key: "lastNameColumn", label: "Last name", mapped: "lastName" },
  { key: "nameColumn", label: "Full name", mapped: "name" },
  { key: "emailColumn", label: "Email", mapped: "email" },
  { key: "timeZoneColumn", label: "Time zone", mapped: "timeZone" },
];

export function CsvReview({ onReviewed }: { onReviewed: (r: ReviewedFile | null) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<ColumnChoice>({});
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const preview = async (f: File, cols: ColumnChoice) => {
    setBusy(true);
    setError(null);
    try {
      const r = await campaignApi.previewImport(f, cols);
      setReport(r);
      onReviewed({ file: f, columns: cols, report: r });
    } catch (e) {
      setReport(null);
      onReviewed(null);
      setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT_ERROR", String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-4">
      <Field label="Contacts CSV" hint="Columns like Phone, First Name, Last Name, Email; any other column becomes a {{variable}}.">
        <input
          type="file"
          accept=".csv,text/csv"
          data-testid="csv-file"
          className={inputClass}
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null;
            setFile(f);
            setColumns({});
            if (f) void preview(f, {});
          }}
        />
      </Field>
      {busy && <Spinner label="Reading the file" />}
      {error && <Banner tone="danger">{error.message}</Banner>}
      {report && file && (
        <>
          <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
            {FIELDS.map((f) => (
              <Field key={f.key} label={f.label}>
                <select
                  className={inputClass}
                  value={columns[f.key] ?? (report.mapping[f.mapped] as string | null) ?? ""}
                  onChange={(e) => {
                    const next = { ...columns, [f.key]: e.target.value || undefined };
                    setColumns(next);
                    void preview(file, next);
                  }}
                >
                  <option value="">(none)</option>
                  {report.headers.map((h) => (
                    <option key={h} value={h}>
                      {h}
                    </option>
                  ))}
                </select>
              </Field>
            ))}
          </div>
          <ImportSummary report={report} />
        </>
      )}
    </div>
  );
}

/** What a preview (or an import) found. */
export function ImportSummary({ report }: { report: ImportReport }) {
  return (
    <div className="space-y-3 text-sm" data-testid="import-summary">
      <p>
        <strong>{formatCount(report.valid)}</strong> valid of {formatCount(report.rows)} rows ·{" "}
        {formatCount(report.newContacts)} new, {formatCount(report.existingContacts)} already contacts (updated) ·{" "}
        {formatCount(report.invalidCount)} invalid · {formatCount(report.duplicateCount)} duplicates ·{" "}
        {formatCount(report.dncCount)} on the do-not-call list
      </p>
      {report.mapping.customFields.length > 0 && (
        <p className="text-zinc-600 dark:text-zinc-400">
          Variables from other columns: {report.mapping.customFields.map((c) => `{{${c}}}`).join(", ")}
        </p>
      )}
      {report.invalid.length > 0 && (
        <details open data-testid="invalid-rows">
          <summary className="cursor-pointer font-medium">Invalid rows ({formatCount(report.invalidCount)})</summary>
          <table className="mt-2 w-full text-left text-xs">
            <thead>
              <tr className="text-zinc-500">
                <th className="py-1 pr-3">Line</th>
                <th className="py-1 pr-3">Phone</th>
                <th className="py-1">Why</th>
              </tr>
            </thead>
            <tbody>
              {report.invalid.map((r) => (
                <tr key={r.line} className="border-t border-zinc-100 dark:border-zinc-800">
                  <td className="py-1 pr-3 tabular-nums">{r.line}</td>
                  <td className="py-1 pr-3">{r.value || "—"}</td>
                  <td className="py-1">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {report.duplicates.length > 0 && (
        <details>
          <summary className="cursor-pointer font-medium">Duplicates within the file ({formatCount(report.duplicateCount)})</summary>
          <ul className="mt-2 text-xs">
            {report.duplicates.map((d) => (
              <li key={d.line}>
                Line {d.line}: {d.phone}, first seen on line {d.firstLine}
              </li>
            ))}
          </ul>
        </details>
      )}
      {report.dnc.length > 0 && (
        <details>
          <summary className="cursor-pointer font-medium">On the do-not-call list ({formatCount(report.dncCount)}) — imported, never called</summary>
          <ul className="mt-2 text-xs">
            {report.dnc.map((d) => (
              <li key={d.line}>
                Line {d.line}: {d.phone}
                {d.reason ? ` (${d.reason})` : ""}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

