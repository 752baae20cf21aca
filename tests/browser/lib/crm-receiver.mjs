// A stand-in for the customer's CRM during the browser tests: records every delivery and answers
// with the status the test asks for. Started by tests/browser/run before the stack (main-app's
// CRM_WEBHOOK_URL points at it); prints its URL on stdout and runs until killed.
//
//   POST /hooks/calls          a delivery: recorded, answered with the current status
//   POST /_control?status=N    what later deliveries are answered with (default 200)
//   GET  /_received            every delivery so far: [{ headers, body }]
import { createServer } from "node:http";

const received = [];
let status = 200;

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const u = new URL(req.url, "http://x");
    if (req.method === "POST" && u.pathname === "/_control") {
      status = Number(u.searchParams.get("status")) || 200;
      res.writeHead(204).end();
    } else if (req.method === "GET" && u.pathname === "/_received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received));
    } else if (req.method === "POST") {
      const text = Buffer.concat(chunks).toString("utf8");
      let body = text;
      try {
        body = JSON.parse(text);
      } catch {}
      received.push({ headers: req.headers, body, answered: status });
      res.writeHead(status, { "content-type": "application/json" }).end(status < 300 ? '{"ok":true}' : '{"error":"test CRM refused"}');
    } else {
      res.writeHead(404).end();
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
