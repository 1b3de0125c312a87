// Many socket.io-client sockets at once, for the churn test.
//
// Usage: node clients.mjs <server url> <count> <connect timeout ms>
// Prints {"type":"connected","count":n,"ms":...} once every socket is connected, or
// {"type":"timeout","connected":k} when some are not within the timeout (and
// {"type":"connect_error",...} for each refusal); then {"type":"received","count":n} once every
// socket has received the "news" event. Disconnects everything and exits when stdin closes.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const [url, countArg, timeoutArg] = process.argv.slice(2);
const count = Number(countArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const start = Date.now();
const sockets = [];
let connected = 0;
let received = 0;
for (let i = 0; i < count; i++) {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, query: { client: String(i) } });
  socket.once("connect", () => {
    connected++;
    if (connected === count) out({ type: "connected", count, ms: Date.now() - start });
  });
  socket.on("connect_error", (err) => out({ type: "connect_error", message: err.message }));
  socket.once("news", () => {
    received++;
    if (received === count) out({ type: "received", count });
  });
  sockets.push(socket);
}
const timer = setTimeout(() => {
  if (connected < count) out({ type: "timeout", connected });
}, Number(timeoutArg));

process.stdin.on("end", () => {
  clearTimeout(timer);
  for (const socket of sockets) socket.disconnect();
  setTimeout(() => process.exit(0), 100);
});
process.stdin.resume();
