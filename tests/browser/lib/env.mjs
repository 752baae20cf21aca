// What the tests run against, from the environment (tests/browser/run sets it up).
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (tests/browser/run sets it; see docs/dashboard.md)`);
  return v;
}

const here = dirname(fileURLToPath(import.meta.url));

export const env = {
  baseUrl: required("BASE_URL").replace(/\/+$/, ""),
  username: process.env.DASHBOARD_USERNAME || "admin",
  password: required("DASHBOARD_PASSWORD"),
  /** The number to call: the sandbox's normal conversation by default. */
  number: process.env.SANDBOX_NUMBER || "+61491570101",
  /** "1" when the stack has the sandbox (calls connect, talk and get recorded); "0" for main-app alone. */
  sandbox: (process.env.SANDBOX ?? "1") !== "0",
  /** How long a sandbox call may take from dialling to its recording. */
  callTimeoutMs: Number(process.env.CALL_TIMEOUT_MS || 120_000),
};

/** Where screenshots go (printed once, so someone can look at them). */
export const shotsDir = resolve(
  process.env.SCREENSHOT_DIR || join(here, "..", "screenshots", new Date().toISOString().replace(/[:.]/g, "-")),
);
mkdirSync(shotsDir, { recursive: true });
