// Drives socket.io-client v4 against a gohands server for the Go end-to-end tests.
// Usage: node sioclient.cjs '<spec json>'. Prints one JSON line per client when it is done.
//
// spec: {url, clients: [{name, query, sendWhen, send, until, timeoutMs}], hold}
//   sendWhen: an agent state; the client emits each `send` payload as oh_user_action once it has
//             seen an agent_state_changed to that state (immediately after connect when absent).
//   until:    an agent state seen after sending, or "connect" (done as soon as connected).
//   summary:  with true, print only the number of events received, not the events.
//   hold:     with true, print {"ready":n} once every client is connected and stay connected
//             until killed (abrupt disconnects for the churn test).
const { io } = require("socket.io-client");

const spec = JSON.parse(process.argv[2]);
let pending = spec.clients.length;
let connected = 0;

function runClient(c) {
  const out = { name: c.name, events: [], connected: false };
  let sent = false;
  let done = false;
  const socket = io(spec.url, {
    transports: ["websocket"],
    query: c.query,
    reconnection: false,
    forceNew: true,
    timeout: 20000,
  });
  let doneOnConnect = false;
  const finish = (extra) => {
    if (done) return;
    if (!out.connected && !extra) {
      // Events replayed before the CONNECT ack are delivered before "connect": finish after it.
      doneOnConnect = true;
      return;
    }
    done = true;
    Object.assign(out, extra || {});
    clearTimeout(timer);
    if (!spec.hold) socket.disconnect();
    if (spec.summary) {
      out.eventCount = out.events.length;
      out.events = [];
    }
    console.log(JSON.stringify(out));
    --pending; // the process ends by itself once every socket is closed (exit() could cut stdout)
  };
  const timer = setTimeout(() => finish({ timeout: true }), c.timeoutMs || 60000);
  const send = () => {
    if (sent || !c.send) return;
    sent = true;
    for (const p of c.send) socket.emit("oh_user_action", p);
  };
  socket.on("connect", () => {
    out.connected = true;
    out.sid = socket.id;
    connected++;
    if (spec.hold && connected === spec.clients.length) console.log(JSON.stringify({ ready: connected }));
    if (c.until === "connect" || doneOnConnect) return finish();
    if (!c.sendWhen) send();
  });
  socket.on("connect_error", (err) => finish({ connect_error: { message: err.message, data: err.data || null } }));
  socket.on("disconnect", (reason) => {
    out.disconnect = reason;
    if (reason === "io server disconnect") finish();
  });
  socket.on("oh_event", (ev) => {
    out.events.push(ev);
    const state = ev && ev.observation === "agent_state_changed" ? ev.extras.agent_state : null;
    if (state && c.sendWhen === state) send();
    if (state && sent && c.until === state) finish();
    if (!c.send && state && c.until === state) finish();
  });
}

spec.clients.forEach(runClient);
