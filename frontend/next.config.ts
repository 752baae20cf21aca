import type { NextConfig } from "next";

// The dashboard is a static export served by main-app (DASHBOARD_DIR, default frontend/out).
// `trailingSlash` makes every route a folder with an index.html, which main-app's ServeDir
// serves directly; dynamic pages take their id from the query string (`/calls/detail/?id=…`).
const config: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
  // In `next dev`, forward the API and Socket.IO to a running main-app (same origin in production).
  // Rewrites are ignored by `next build` with `output: "export"`.
  ...(process.env.NODE_ENV === "development"
    ? {
        async rewrites() {
          const target = process.env.MAIN_APP_URL ?? "http://127.0.0.1:8000";
          return [
            { source: "/api/:path*", destination: `${target}/api/:path*` },
            { source: "/socket.io/:path*", destination: `${target}/socket.io/:path*` },
          ];
        },
      }
    : {}),
};

export default config;
