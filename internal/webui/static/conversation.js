// The conversation page: the event log, the status bar, the message box and the agent controls,
// fed by one Socket.IO connection. A lost connection is retried with exponential backoff from the
// last event id seen, so nothing is shown twice; a reload replays the history from the start.

import { api, APIError } from './api.js';
import { setOffline, showError, hideError } from './banner.js';
import { h, clear } from './dom.js';
import { EventRenderer } from './events.js';
import { SocketIO } from './socket.js';
import { agentStateLabel, runtimeLabel, statusText, isKeyProblem } from './labels.js';

const SETTINGS_LINK = { href: '/settings', text: 'Open settings' };
// Agent states in which the agent is busy: Stop applies.
const BUSY = new Set(['loading', 'running', 'paused', 'awaiting_user_confirmation', 'user_confirmed', 'rate_limited']);

export class ConversationView {
  constructor(root, id, app) {
    this.root = root;
    this.id = id;
    this.app = app;
    this.renderer = new EventRenderer();
    this.seen = new Set();
    this.lastID = -1;
    this.agentState = null;
    this.runtimeStatus = null;
    this.statusMessage = '';
    this.connection = 'connecting';
    this.sock = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.queue = []; // messages not sent yet: disconnected, or the agent still loading
    this.disposed = false;
    this.build();
    this.open();
  }

  build() {
    this.titleEl = h('h1', { class: 'conv-title' }, 'Conversation');
    this.statusEl = h('p', { class: 'statusbar', role: 'status', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'events' });
    // The scrolling region; focusable, so the keyboard can scroll it.
    this.log = h('div', { class: 'events-scroll', role: 'log', 'aria-label': 'Conversation', tabindex: '0' }, this.list);
    this.confirmBar = h('div', { class: 'confirm-bar', hidden: true, role: 'group', 'aria-label': 'Confirmation' },
      h('span', {}, 'The agent asks before running the action above.'),
      h('button', { type: 'button', class: 'primary', onclick: () => this.setAgentState('user_confirmed') }, 'Confirm'),
      h('button', { type: 'button', class: 'danger', onclick: () => this.setAgentState('user_rejected') }, 'Reject'));
    this.input = h('textarea', { id: 'message', rows: '2', placeholder: 'Message the agent (Enter sends, Shift+Enter for a new line)', 'aria-describedby': 'message-error' });
    this.inputError = h('p', { id: 'message-error', class: 'field-error', 'aria-live': 'assertive' });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener('input', () => { this.inputError.textContent = ''; });
    this.buttons = {
      pause: h('button', { type: 'button', onclick: () => this.setAgentState('paused') }, 'Pause'),
      resume: h('button', { type: 'button', onclick: () => this.setAgentState('running') }, 'Resume'),
      stop: h('button', { type: 'button', class: 'danger', onclick: () => this.setAgentState('stopped') }, 'Stop'),
    };
    const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h('label', { for: 'message', class: 'sr-only' }, 'Message'),
      this.input,
      h('div', { class: 'composer-row' },
        this.inputError,
        h('div', { class: 'controls' }, this.buttons.pause, this.buttons.resume, this.buttons.stop,
          h('button', { type: 'submit', class: 'primary' }, 'Send'))));
    clear(this.root).append(h('section', { class: 'conv' },
      h('header', { class: 'conv-head' }, this.titleEl, this.statusEl),
      this.log, this.confirmBar, form));
    this.updateStatus();
  }

  // open (re)connects: the conversation must exist; a stopped one is started first.
  async open() {
    clearTimeout(this.retryTimer);
    if (this.disposed) return;
    this.setConnection(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let info;
    try {
      info = await api('GET', `/api/conversations/${encodeURIComponent(this.id)}`);
    } catch (e) {
      return this.failed(e);
    }
    if (this.disposed) return;
    setOffline(false);
    if (!info) return this.gone();
    this.setTitle(info.title);
    if (info.runtime_status) this.runtimeStatus = info.runtime_status;
    if (info.status === 'STOPPED') {
      try {
        await api('POST', `/api/conversations/${encodeURIComponent(this.id)}/start`, {});
      } catch (e) {
        return this.failed(e);
      }
    }
    if (this.disposed) return;
    this.connect();
  }

  failed(e) {
    if (this.disposed) return;
    if (e instanceof APIError && e.unreachable) return this.retry();
    this.setConnection('disconnected');
    showError(e.message, e.msgID && e.msgID.startsWith('CONFIGURATION$') ? SETTINGS_LINK : undefined);
  }

  retry() {
    this.setConnection('reconnecting');
    setOffline(true);
    const delay = Math.min(500 * 2 ** this.attempt, 10000) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  gone() {
    this.setConnection('disconnected');
    this.input.disabled = true;
    clear(this.list).append(h('li', { class: 'ev ev-note' }, 'This conversation does not exist (it may have been deleted). ', h('a', { href: '/' }, 'Back to the conversations')));
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = new URLSearchParams({ EIO: '4', transport: 'websocket', conversation_id: this.id, latest_event_id: String(this.lastID) });
    const sock = new SocketIO(`${proto}//${location.host}/socket.io/?${query}`, {
      onConnect: () => {
        this.attempt = 0;
        setOffline(false);
        this.setConnection('connected');
        this.flush();
      },
      onEvent: (name, payload) => { if (name === 'oh_event') this.onPayload(payload); },
      onClose: () => { if (this.sock === sock) this.retry(); },
      onServerDisconnect: () => { if (this.sock === sock) this.serverEnded(); },
      onConnectError: (err) => {
        if (this.sock !== sock) return;
        this.setConnection('disconnected');
        const msgID = err.data && err.data.msg_id;
        showError(`The server refused the connection: ${err.message || 'no reason given'}`, msgID && msgID.startsWith('CONFIGURATION$') ? SETTINGS_LINK : undefined);
      },
    });
    this.sock = sock;
  }

  // serverEnded: the server closed this conversation's connection on purpose (stopped, deleted or
  // evicted). It is not retried by itself; sending a message reconnects.
  async serverEnded() {
    this.setConnection('disconnected');
    let info;
    try {
      info = await api('GET', `/api/conversations/${encodeURIComponent(this.id)}`);
    } catch (e) {
      return this.failed(e);
    }
    if (!info) return this.gone();
    this.statusMessage = 'The server closed this conversation. Send a message to start it again.';
    this.updateStatus();
  }

  onPayload(p) {
    if (!p || typeof p !== 'object') return;
    if (p.error === true) {
      showError(p.message || 'The server reported an error.');
      return;
    }
    if (p.status_update) {
      if ('conversation_title' in p) {
        this.setTitle(p.conversation_title);
        this.app.conversationsChanged();
      } else if (p.type === 'error') {
        showError(statusText(p.id, p.message), isKeyProblem(p.id, p.message) ? SETTINGS_LINK : undefined);
      } else {
        if (runtimeLabel(p.id)) this.runtimeStatus = p.id;
        this.statusMessage = runtimeLabel(p.id) ? '' : statusText(p.id, p.message);
        this.updateStatus();
      }
      return;
    }
    if (Number.isInteger(p.id)) {
      if (this.seen.has(p.id)) return;
      this.seen.add(p.id);
      if (p.id > this.lastID) this.lastID = p.id;
    }
    if (p.observation === 'agent_state_changed') {
      const extras = p.extras || {};
      this.onAgentState(extras.agent_state, extras.reason);
      return;
    }
    let entry;
    try {
      entry = this.renderer.render(p);
    } catch (e) {
      // An event of a shape this page does not expect is shown raw rather than lost.
      console.error('cannot render event', p, e);
      entry = h('li', { class: 'ev ev-generic', 'data-id': p.id }, h('pre', { class: 'code' }, JSON.stringify(p, null, 2)));
    }
    if (entry) this.append(entry);
  }

  onAgentState(state, reason) {
    if (!state) return;
    this.agentState = state;
    this.statusMessage = '';
    if (state === 'error') {
      const text = reason ? statusText(reason, reason) : 'Unknown error';
      showError(`The agent stopped with an error: ${text}`, isKeyProblem(reason, text) ? SETTINGS_LINK : undefined);
    } else if (state === 'running' || state === 'loading') {
      hideError();
    }
    this.updateStatus();
    this.flush();
  }

  append(entry) {
    const log = this.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
    this.list.append(entry);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  send() {
    const text = this.input.value;
    if (!text.trim()) {
      this.inputError.textContent = 'Type a message first.';
      this.input.focus();
      return;
    }
    const msg = { action: 'message', args: { content: text, image_urls: [], file_urls: [], timestamp: new Date().toISOString() } };
    this.input.value = '';
    this.inputError.textContent = '';
    this.queue.push(msg);
    this.flush();
    if (!this.queue.length) return;
    if (this.connection === 'connected') {
      this.inputError.textContent = 'The agent is starting: your message will be sent as soon as it is ready.';
      return;
    }
    this.inputError.textContent = 'Not connected: your message will be sent when the connection is back.';
    if (this.connection === 'disconnected') {
      this.attempt = 0;
      this.open();
    }
  }

  // flush sends the messages typed so far once the agent can take them: while it is loading, the
  // server stores a message but the agent, not started yet, would never answer it (the OpenHands
  // UI disables its input then; here the box stays usable and the message waits).
  flush() {
    if (!this.queue.length || !this.sock || !this.sock.connected || !this.agentState || this.agentState === 'loading') return;
    while (this.queue.length && this.sock.emit('oh_user_action', this.queue[0])) this.queue.shift();
    if (!this.queue.length) this.inputError.textContent = '';
  }

  setAgentState(state) {
    const msg = { action: 'change_agent_state', args: { agent_state: state } };
    if (!this.sock || !this.sock.emit('oh_user_action', msg)) {
      this.inputError.textContent = 'Not connected to the server: try again in a moment.';
    }
  }

  setTitle(title) {
    if (!title) return;
    this.titleEl.textContent = title;
    document.title = `${title} · gohands`;
  }

  setConnection(state) {
    this.connection = state;
    this.updateStatus();
  }

  updateStatus() {
    const state = this.agentState;
    const parts = [
      h('span', { class: `dot dot-${this.connection === 'connected' ? stateTone(state) : 'off'}`, 'aria-hidden': 'true' }),
      h('span', {}, h('span', { class: 'muted' }, 'Agent: '), h('strong', { 'data-agent-state': state || '' }, state ? agentStateLabel(state) : 'unknown')),
      h('span', {}, h('span', { class: 'muted' }, 'Sandbox: '), runtimeLabel(this.runtimeStatus) || 'not started'),
      h('span', {}, h('span', { class: 'muted' }, 'Connection: '), this.connection),
    ];
    if (this.statusMessage) parts.push(h('span', { class: 'status-msg' }, this.statusMessage));
    clear(this.statusEl).append(...parts);
    const connected = this.connection === 'connected';
    this.buttons.pause.disabled = !connected || state !== 'running';
    this.buttons.resume.disabled = !connected || state !== 'paused';
    this.buttons.stop.disabled = !connected || !BUSY.has(state);
    this.confirmBar.hidden = !(connected && state === 'awaiting_user_confirmation');
  }

  focus() {
    this.input.focus({ preventScroll: true });
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    if (this.sock) this.sock.close();
    this.sock = null;
  }
}

function stateTone(state) {
  if (state === 'error') return 'bad';
  if (BUSY.has(state)) return 'busy';
  return 'ok';
}
