import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

// Unit tests cover the logic that lives in the frontend (API client, live-state reducers,
// formatting, filters). They run in Node: no browser, no network.
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
