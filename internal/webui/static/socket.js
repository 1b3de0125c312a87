// A small Socket.IO v5 client for the subset the gohands server speaks: Engine.IO v4 over a
// websocket (no long-polling), the default namespace, JSON events. One SocketIO is one connection
// attempt; reconnecting is the caller's business (it knows which event it saw last).
//
// Engine.IO packets are one per websocket message: "0{open json}", "2" ping (answer "3"), "1" close,
// "4<socket.io packet>". Socket.IO packets: "0{sid}" connect ack, "1" disconnect, "2[name, arg]"
// event, "3[...]" ack, "4{message,data}" connect error.

const CONNECT_TIMEOUT_MS = 20000;

export class SocketIO {
  // handlers: onEvent(name, arg), onConnect(sid), onClose() for a lost transport,
  // onServerDisconnect() when the server ends the session, onConnectError({message, data}).
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.connected = false;
    this.done = false; // closed on purpose, by us or by the server: no onClose
    this.timer = null;
    this.ws = new WebSocket(url);
    this.ws.onmessage = (m) => this.receive(m.data);
    this.ws.onclose = () => this.lost();
    this.ws.onerror = () => {}; // onclose follows and reports
    this.arm(CONNECT_TIMEOUT_MS);
  }

  // emit sends an event; it returns false when the socket is not connected.
  emit(name, arg) {
    if (!this.connected || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send('42' + JSON.stringify([name, arg]));
    return true;
  }

  // close ends the connection without reporting it.
  close() {
    if (this.done) return;
    this.done = true;
    this.disarm();
    if (this.connected && this.ws.readyState === WebSocket.OPEN) this.ws.send('41');
    this.connected = false;
    this.ws.close();
  }

  receive(data) {
    if (typeof data !== 'string' || this.done) return;
    switch (data[0]) {
      case '0': {
        const open = parseJSON(data.slice(1)) || {};
        this.heartbeat = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
        this.arm(this.heartbeat);
        this.ws.send('40');
        break;
      }
      case '2':
        this.ws.send('3');
        this.arm(this.heartbeat);
        break;
      case '1':
        this.ws.close();
        break;
      case '4':
        this.packet(data.slice(1));
        break;
    }
  }

  packet(p) {
    const type = p[0];
    const rest = p.slice(1);
    if (rest[0] === '/') return; // another namespace: not ours
    switch (type) {
      case '0':
        this.connected = true;
        this.handlers.onConnect?.((parseJSON(rest) || {}).sid);
        break;
      case '1':
        this.done = true;
        this.connected = false;
        this.disarm();
        this.ws.close();
        this.handlers.onServerDisconnect?.();
        break;
      case '2': {
        const start = rest.indexOf('['); // an ack id may precede the array
        const args = start >= 0 ? parseJSON(rest.slice(start)) : null;
        if (Array.isArray(args) && typeof args[0] === 'string') this.handlers.onEvent?.(args[0], args[1]);
        break;
      }
      case '4':
        this.done = true;
        this.connected = false;
        this.disarm();
        this.ws.close();
        this.handlers.onConnectError?.(parseJSON(rest) || { message: 'The server refused the connection.' });
        break;
    }
  }

  lost() {
    this.disarm();
    this.connected = false;
    if (this.done) return;
    this.done = true;
    this.handlers.onClose?.();
  }

  // arm (re)starts the watchdog: without a ping (or the open packet) within ms the connection
  // counts as lost, as a silently dropped network would otherwise never be noticed.
  arm(ms) {
    this.disarm();
    this.timer = setTimeout(() => {
      this.ws.close();
      this.lost();
    }, ms);
  }

  disarm() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}

function parseJSON(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
