// Load generator of the Socket.IO fan-out benchmark (bench/socketio/run.sh).
//
// Fan-out mode (default): N clients (socket.io-client 4, websocket transport) over R conversations
// (client i joins conversation i mod R), all connected first; then the first client of every
// conversation emits oh_user_action every INTERVAL ms, first for WARMUP seconds (not counted), then
// for DURATION seconds (measured). Every client, the sender included, counts the oh_event messages
// carrying a benchmark payload and records emit-to-receive latency on the monotonic clock of its
// own process. The clients run in PROCS worker processes, each owning whole conversations (sender and
// receivers of a conversation share a process, hence a clock); this process only coordinates and
// samples the server's RSS and CPU from /proc/<pid>. Prints one JSON object at the end.
//
// Idle mode (--idle K): RSS of the server before and after K clients, one per conversation, have
// connected and stay idle; prints the difference per conversation.
//
// Usage: NODE_PATH=test/node/node_modules node bench/socketio/load.js --url http://127.0.0.1:PORT
//        --server-pid PID [--clients 1000] [--rooms 100] [--interval 20] [--warmup 5]
//        [--duration 20] [--procs 1] [--drain 10] [--idle K] [--settle 5] [--label name]
// (--drain: seconds to wait for late deliveries after the last send; --settle: seconds between the
// idle clients' connect and the RSS reading)
"use strict";

const { fork } = require("child_process");
const fs = require("fs");
const { performance, monitorEventLoopDelay } = require("perf_hooks");

function parseArgs(argv) {
  const o = { url: "", serverPid: 0, clients: 1000, rooms: 100, interval: 20, warmup: 5, duration: 20,
    procs: 1, idle: 0, settle: 5, label: "", drain: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase());
    if (!(k in o)) throw new Error("unknown flag " + argv[i]);
    o[k] = typeof o[k] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!o.url) throw new Error("--url is required");
  return o;
}

// The benchmark's conversations; bench/socketio/server creates the same.
const roomName = (r) => "bench" + String(r).padStart(5, "0");

// Latency histogram: 10 µs buckets up to 10 s, exact values above.
const BUCKET_MS = 0.01, BUCKETS = 1000000;
function newHist() { return { b: new Uint32Array(BUCKETS), over: [], n: 0, max: 0 }; }
function record(h, ms) {
  const i = Math.floor(ms / BUCKET_MS);
  if (i < BUCKETS) h.b[i]++; else h.over.push(ms);
  h.n++;
  if (ms > h.max) h.max = ms;
}
function quantile(h, q) {
  if (h.n === 0) return null;
  let want = Math.ceil(q * h.n), seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.b[i];
    if (seen >= want) return (i + 0.5) * BUCKET_MS;
  }
  h.over.sort((a, b) => a - b);
  return h.over[want - seen - 1];
}

// ---- server sampling (/proc) ----

function procStatus(pid) {
  const out = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(VmRSS|VmHWM):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
// CPU seconds (user + system) of pid and its threads; /proc's clock ticks are 1/100 s on Linux.
function procCPU(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

// Machine-wide CPU time by kind, in clock ticks (the first line of /proc/stat).
function machineCPU() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { user: user + nice, system, irq: irq + softirq, steal, idle: idle + iowait };
}

// How the whole machine's cores were spent between two machineCPU samples, in cores.
function machineCores(a, b, seconds) {
  const out = {};
  for (const k of Object.keys(a)) out[k] = Math.round(((b[k] - a[k]) / 100 / seconds) * 100) / 100;
  return out;
}

// ---- worker: owns whole conversations ----

function worker(o) {
  const { io } = require("socket.io-client");
  const clients = [];
  const members = new Map(); // room → client count
  const hist = newHist();
  let received = 0, duplicates = 0, disconnects = 0, connectErrors = 0;
  const sent = new Map(); // room → measured messages sent
  const lastSeq = []; // per client
  let lagMax = 0, lagSum = 0, lagN = 0;
  let phase = "connect";

  function connectOne(idx, room) {
    return new Promise((resolve) => {
      const began = performance.now();
      const sock = io(o.url, { transports: ["websocket"], forceNew: true, reconnection: true,
        query: { conversation_id: roomName(room), latest_event_id: "-1" } });
      const c = { sock, room, idx, seq: 0 }; // seq: the next message's number, when c sends
      lastSeq[idx] = -1;
      sock.on("oh_event", (ev) => {
        const content = ev && ev.args && ev.args.content;
        if (typeof content !== "string" || content.charCodeAt(0) !== 98 /* b */ || content.charCodeAt(1) !== 58) return;
        const now = performance.now();
        const p = content.split(":"); // b:measured:seq:sendTime
        if (p[1] !== "1") return;
        const seq = Number(p[2]);
        if (seq <= lastSeq[idx]) { duplicates++; return; }
        lastSeq[idx] = seq;
        received++;
        record(hist, now - Number(p[3]));
      });
      sock.on("disconnect", () => { if (phase !== "close") disconnects++; });
      let done = false;
      sock.on("connect", () => { if (!done) { done = true; resolve({ c, ms: performance.now() - began }); } });
      sock.on("connect_error", (err) => {
        connectErrors++;
        if (!done) { done = true; resolve({ c: null, ms: performance.now() - began, err: String(err.message) }); }
      });
    });
  }

  async function connectAll(indices) {
    const times = [];
    const errors = [];
    const began = performance.now();
    const batch = 100; // connects in flight at once
    for (let i = 0; i < indices.length; i += batch) {
      const rs = await Promise.all(indices.slice(i, i + batch).map(([idx, room]) => connectOne(idx, room)));
      for (const r of rs) {
        times.push(r.ms);
        if (r.c) { clients.push(r.c); members.set(r.c.room, (members.get(r.c.room) || 0) + 1); }
        else errors.push(r.err);
      }
    }
    times.sort((a, b) => a - b);
    return { connected: clients.length, errors: errors.slice(0, 3), totalMs: performance.now() - began,
      p50Ms: times[Math.floor(times.length * 0.5)], p99Ms: times[Math.floor(times.length * 0.99)] };
  }

  // Every conversation's first client sends every interval ms, on a schedule that catches up when
  // the event loop was late, so the offered load stays what was asked; lag is how late sends were.
  function send(seconds, measured) {
    return new Promise((resolve) => {
      const senders = [];
      for (const c of clients) if (!senders.some((s) => s.room === c.room)) senders.push(c);
      const start = performance.now();
      const end = start + seconds * 1000;
      const next = senders.map((_, i) => start + (o.interval * i) / senders.length);
      const timer = setInterval(() => {
        let now = performance.now();
        let active = false;
        for (let i = 0; i < senders.length; i++) {
          while (next[i] <= now && next[i] < end) {
            const lag = now - next[i];
            if (measured) { lagSum += lag; lagN++; if (lag > lagMax) lagMax = lag; }
            const s = senders[i];
            const content = `b:${measured ? 1 : 0}:${s.seq++}:${now.toFixed(3)}`;
            s.sock.emit("oh_user_action", { action: "message", args: { content, image_urls: [], file_urls: [] } });
            if (measured) sent.set(s.room, (sent.get(s.room) || 0) + 1);
            next[i] += o.interval;
            now = performance.now();
          }
          if (next[i] < end) active = true;
        }
        if (!active) { clearInterval(timer); resolve(); }
      }, 1);
    });
  }

  function expected() {
    let n = 0;
    for (const [room, k] of sent) n += k * (members.get(room) || 0);
    return n;
  }

  process.on("disconnect", () => process.exit(1)); // the coordinator is gone
  process.on("message", async (m) => {
    if (m.cmd === "connect") {
      process.send({ cmd: "connected", stats: await connectAll(m.indices) });
    } else if (m.cmd === "warmup") {
      phase = "warmup";
      await send(o.warmup, false);
      process.send({ cmd: "warm" });
    } else if (m.cmd === "run") {
      phase = "run";
      const cpu0 = process.cpuUsage();
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      await send(o.duration, true);
      const inWindow = received;
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      const drainEnd = performance.now() + o.drain * 1000;
      while (received < expected() && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 50));
      process.send({ cmd: "result", r: { expected: expected(), received, inWindow, duplicates, disconnects, connectErrors,
        cpuSeconds: (cpu.user + cpu.system) / 1e6, lagMaxMs: lagMax,
        loopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }, lagMeanMs: lagN ? lagSum / lagN : 0,
        hist: { b: Array.from(hist.b.entries()).filter(([, v]) => v > 0), over: hist.over, n: hist.n, max: hist.max } } });
    } else if (m.cmd === "close") {
      phase = "close";
      for (const c of clients) c.sock.close();
      process.send({ cmd: "closed" });
      setTimeout(() => process.exit(0), 200);
    }
  });
}

// ---- coordinator ----

function call(w, msg, reply) {
  return new Promise((resolve) => {
    const on = (m) => { if (m.cmd === reply) { w.removeListener("message", on); resolve(m); } };
    w.on("message", on);
    w.send(msg);
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const idle = o.idle > 0;
  const nClients = idle ? o.idle : o.clients, nRooms = idle ? o.idle : o.rooms;
  const procs = Math.max(1, Math.min(o.procs, nRooms));
  const pid = o.serverPid;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const workers = [];
  for (let w = 0; w < procs; w++) {
    const idx = [];
    for (let i = 0; i < nClients; i++) if ((i % nRooms) % procs === w) idx.push([i, i % nRooms]);
    workers.push({ proc: fork(__filename, ["--worker", JSON.stringify(o)]), idx });
  }
  const result = { label: o.label, mode: idle ? "idle" : "fanout", clients: nClients, rooms: nRooms,
    procs, intervalMs: o.interval };

  if (idle) {
    await sleep(1000);
    const before = procStatus(pid).VmRSS;
    const conns = await Promise.all(workers.map((w) => call(w.proc, { cmd: "connect", indices: w.idx }, "connected")));
    await sleep(o.settle * 1000);
    const after = procStatus(pid).VmRSS;
    result.connected = conns.reduce((s, c) => s + c.stats.connected, 0);
    result.rssBeforeKB = before;
    result.rssAfterKB = after;
    result.rssPerConversationKB = (after - before) / o.idle;
  } else {
    const t0 = performance.now();
    const conns = await Promise.all(workers.map((w) => call(w.proc, { cmd: "connect", indices: w.idx }, "connected")));
    result.connect = { connected: conns.reduce((s, c) => s + c.stats.connected, 0),
      wallMs: Math.round(performance.now() - t0),
      p50Ms: Math.max(...conns.map((c) => c.stats.p50Ms)), p99Ms: Math.max(...conns.map((c) => c.stats.p99Ms)),
      errors: conns.flatMap((c) => c.stats.errors) };
    await Promise.all(workers.map((w) => call(w.proc, { cmd: "warmup" }, "warm")));

    // Sample the server while the measured load runs.
    const rss = [];
    let hwm = 0;
    const sample = () => { const s = procStatus(pid); rss.push(s.VmRSS); hwm = s.VmHWM; };
    const sampler = setInterval(sample, 500);
    const cpu0 = procCPU(pid), m0 = machineCPU(), w0 = performance.now();
    const results = await Promise.all(workers.map((w) => call(w.proc, { cmd: "run" }, "result").then((m) => m.r)));
    clearInterval(sampler);
    sample();
    const serverCPU = procCPU(pid) - cpu0, wall = (performance.now() - w0) / 1000;
    const machine = machineCores(m0, machineCPU(), wall);

    const hist = newHist();
    let expected = 0, received = 0, inWindow = 0, duplicates = 0, disconnects = 0, clientCPU = 0, lagMax = 0;
    let loopP99 = 0, loopMax = 0;
    for (const r of results) {
      expected += r.expected; received += r.received; inWindow += r.inWindow; duplicates += r.duplicates;
      disconnects += r.disconnects; clientCPU += r.cpuSeconds; lagMax = Math.max(lagMax, r.lagMaxMs);
      loopP99 = Math.max(loopP99, r.loopDelayMs.p99); loopMax = Math.max(loopMax, r.loopDelayMs.max);
      for (const [i, v] of r.hist.b) hist.b[i] += v;
      for (const v of r.hist.over) hist.over.push(v);
      hist.n += r.hist.n;
      hist.max = Math.max(hist.max, r.hist.max);
    }
    const r2 = (x) => (x == null ? null : Math.round(x * 100) / 100);
    Object.assign(result, {
      durationS: o.duration,
      // Deliveries received while the senders were sending, per second: what the server sustained.
      // The drain that follows only completes the count of lost deliveries.
      deliveriesPerSec: Math.round(inWindow / o.duration),
      offeredPerSec: Math.round(expected / o.duration),
      expected, received, lost: expected - received, duplicates, disconnects,
      latencyMs: { p50: r2(quantile(hist, 0.5)), p99: r2(quantile(hist, 0.99)), p999: r2(quantile(hist, 0.999)), max: r2(hist.max) },
      senderLagMaxMs: r2(lagMax),
      // How late the clients' event loops ran (the worst worker): high values mean the load
      // generator, not the server, delayed deliveries.
      clientLoopDelayMs: { p99: r2(loopP99), max: r2(loopMax) },
      serverRSSKB: { max: Math.max(...rss), mean: Math.round(rss.reduce((s, v) => s + v, 0) / rss.length), hwm },
      // Cores busy: the server's over the send phase and the drain (a few ms when it keeps up), the
      // clients' over the send phase.
      serverCores: r2(serverCPU / wall),
      clientCores: r2(clientCPU / o.duration),
      // The whole machine over the same window (every process, the kernel, interrupts, and time
      // the hypervisor took), in cores: idle near 0 means the machine, not one program, was the limit.
      machineCores: machine,
    });
  }
  await Promise.all(workers.map((w) => call(w.proc, { cmd: "close" }, "closed")));
  console.log(JSON.stringify(result));
  process.exit(0);
}

if (process.argv[2] === "--worker") {
  worker(JSON.parse(process.argv[3]));
} else {
  main().catch((err) => { console.error(err); process.exit(1); });
}
