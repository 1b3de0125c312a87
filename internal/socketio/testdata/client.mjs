// One socket.io-client socket driven by the Go tests.
//
// Usage: node client.mjs <server url> [options JSON]
// Options: {"query": {...}, "frontendQuery": true, "auth": {...}, "reconnection": false}
// Prints one JSON object per line for what the socket sees (connect, connect_error, event,
// disconnect, ack, reconnect_attempt). Reads commands, one JSON object per line, on stdin:
// {"emit": "name", "args": [...], "ack": true} and {"emitString": "name", "size": bytes}.
// Disconnects and exits when stdin closes.
import { createRequire } from "node:module";
import readline from "node:readline";

// The modules live in test/node/node_modules; the Go test points NODE_PATH there.
const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const [url, optionsJSON] = process.argv.slice(2);
const options = optionsJSON ? JSON.parse(optionsJSON) : {};
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

// The OpenHands web UI builds its query like this: missing values become "undefined" and "null",
// arrays are joined with commas.
const query = options.frontendQuery
  ? { conversation_id: "abc", latest_event_id: undefined, providers_set: ["github", "gitlab"], session_api_key: null }
  : options.query;

const socket = io(url, {
  transports: ["websocket"],
  forceNew: true,
  query,
  auth: options.auth,
  reconnection: options.reconnection ?? true,
});
socket.onAny((name, ...args) => out({ type: "event", name, args }));
socket.on("connect", () => out({ type: "connect", id: socket.id }));
socket.on("connect_error", (err) => out({ type: "connect_error", message: err.message, data: err.data ?? null }));
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.io.on("reconnect_attempt", (n) => out({ type: "reconnect_attempt", n }));

const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const cmd = JSON.parse(line);
  if (cmd.emit !== undefined) {
    const args = cmd.args ?? [];
    if (cmd.ack) {
      socket.emit(cmd.emit, ...args, (...ackArgs) => out({ type: "ack", name: cmd.emit, args: ackArgs }));
    } else {
      socket.emit(cmd.emit, ...args);
    }
  } else if (cmd.emitString !== undefined) {
    socket.emit(cmd.emitString, "x".repeat(cmd.size));
  }
});
commands.on("close", () => {
  socket.disconnect();
  setTimeout(() => process.exit(0), 50);
});
