#!/usr/bin/env node
/* eslint-disable no-console -- a command-line tool: it reports on stderr */
// Adds lockfile entries for platform-specific optional packages the registry here does not
// serve (e.g. `@next/swc-darwin-arm64`), so `npm ci` accepts the lockfile.
//
// Why: the registry these machines reach holds the packages for this platform and only some
// others. `npm install` then leaves the missing ones out of package-lock.json, while `npm ci`
// checks every optional dependency named by a locked package and refuses ("Missing: … from lock
// file"). Each added entry carries the exact version its parent asks for and the os/cpu/libc the
// package name says, so npm never fetches it on a platform it does not fit (and fetches it from
// the registry by version on one it does). Run after every `npm install`: `npm run lock:complete`.
import { readFileSync, writeFileSync } from "node:fs";

const OS = { darwin: "darwin", win32: "win32", linux: "linux", android: "android", freebsd: "freebsd", openbsd: "openbsd", netbsd: "netbsd", sunos: "sunos", aix: "aix", openharmony: "openharmony" };
const CPU = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x", "mips64el", "wasm32"];

/** os / cpu / libc from a platform package name such as `@rollup/rollup-linux-arm64-musl`. */
function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => p in OS);
  let cpu = parts.find((p) => CPU.includes(p));
  if (!cpu && parts.includes("arm")) cpu = "arm";
  const out = {};
  if (cpu) out.cpu = [cpu];
  if (os) out.os = [OS[os]];
  if (parts.includes("musl") || parts.includes("musleabihf")) out.libc = ["musl"];
  else if (os === "linux" && (parts.includes("gnu") || parts.includes("gnueabihf"))) out.libc = ["glibc"];
  return out;
}

function exact(spec) {
  const v = spec.replace(/^[~^=]/, "");
  return /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(v) ? v : null;
}

const file = process.argv[2] ?? "package-lock.json";
const lock = JSON.parse(readFileSync(file, "utf8"));
const pkgs = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    // Resolution walks up from the parent's folder, as Node does.
    const base = path ? `${path}/node_modules/` : "node_modules/";
    const candidates = [`${base}${name}`, `node_modules/${name}`];
    if (candidates.some((c) => c in pkgs)) continue;
    const version = exact(spec);
    if (!version) {
      console.error(`complete-lockfile: cannot pin ${name}@${spec} (needed by ${path || "the root"}); left out`);
      continue;
    }
    const key = `node_modules/${name}`;
    pkgs[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.error(`complete-lockfile: added ${added} platform package entr${added === 1 ? "y" : "ies"}`);
