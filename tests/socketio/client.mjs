// A real socket.io-client, driven by a test over JSON lines.
//
//   node client.mjs '{"url":"http://127.0.0.1:8000","auth":{"token":"…"},"extraHeaders":{…}}'
//
// stdout, one JSON object per line:
//   {"type":"connect"} | {"type":"connect_error","message":"…"} | {"type":"disconnect","reason":"…"}
//   {"type":"event","event":"call:updated","data":{…}} | {"type":"ack","id":1,"data":{…}}
// stdin, one JSON object per line:
//   {"op":"emit","event":"subscribe","data":{"topic":"calls"},"id":1}   (the ack is printed)
//   {"op":"close"}                                                      (disconnects and exits)
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const options = JSON.parse(process.argv[2] ?? "{}");
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(options.url, {
  path: "/socket.io/",
  auth: options.auth ?? {},
  extraHeaders: options.extraHeaders ?? {},
  transports: options.transports ?? ["polling", "websocket"],
  reconnection: false,
  timeout: 10000,
});

socket.on("connect", () => print({ type: "connect", id: socket.id }));
socket.on("connect_error", (err) => print({ type: "connect_error", message: err.message }));
socket.on("disconnect", (reason) => print({ type: "disconnect", reason }));
socket.onAny((event, data) => print({ type: "event", event, data }));

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  if (cmd.op === "emit") {
    socket.timeout(10000).emit(cmd.event, cmd.data, (err, data) =>
      print({ type: "ack", id: cmd.id, data: err ? { error: String(err) } : data }),
    );
  } else if (cmd.op === "close") {
    socket.close();
    process.exit(0);
  }
});
lines.on("close", () => {
  socket.close();
  process.exit(0);
});
// Never outlive the test that started us.
setTimeout(() => process.exit(3), 300000).unref();
