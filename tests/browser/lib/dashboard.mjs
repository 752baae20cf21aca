// Steps every test shares: logging in, screenshots, the one Socket.IO connection.
import { join } from "node:path";
import { env, shotsDir } from "./env.mjs";

export const url = (path) => `${env.baseUrl}${path}`;

/** Logs in through the form and waits for the overview (or `next`). */
export async function login(page, next = "/") {
  await page.goto(url(next === "/" ? "/login/" : `/login/?next=${encodeURIComponent(next)}`));
  await page.getByLabel("Username").fill(env.username);
  await page.getByLabel("Password").fill(env.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/** A full-page screenshot named `name.png` in the screenshots folder. */
export async function shoot(page, name) {
  // Let fonts, transitions and pending renders settle.
  await page.waitForTimeout(300);
  // From the top: the sidebar is sticky, and a full-page capture of a scrolled page shows it
  // wherever the page was scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** Counts WebSocket connections to Socket.IO opened by a page. */
export function countSockets(page) {
  const seen = [];
  page.on("websocket", (ws) => {
    if (ws.url().includes("/socket.io/")) seen.push(ws.url());
  });
  return seen;
}
