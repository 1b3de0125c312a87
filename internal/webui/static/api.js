// REST calls to the gohands server (the OpenHands 0.50 API), with failures turned into plain
// sentences. A request that cannot reach the server shows the offline bar and starts probing
// /alive with exponential backoff; when the server answers again, the onOnline callbacks run.

import { setOffline } from './banner.js';

// APIError is a failed call: status 0 means the server could not be reached.
export class APIError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
  get unreachable() {
    return this.status === 0;
  }
  // msgID is OpenHands' msg_id of the error body, when it has one.
  get msgID() {
    return (this.body && typeof this.body === 'object' && this.body.msg_id) || '';
  }
}

// api sends a JSON request and returns the decoded answer (null for an empty body).
export async function api(method, path, body) {
  const init = { method, cache: 'no-store', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  for (let attempt = 0; ; attempt++) {
    try {
      resp = await fetch(path, init);
    } catch {
      serverUnreachable();
      throw new APIError('Cannot reach the gohands server.', 0, null);
    }
    // The server limits requests per second; a read is simply tried again when it says so.
    if (resp.status !== 429 || method !== 'GET' || attempt >= 3) break;
    const wait = Number(resp.headers.get('Retry-After')) || 1;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
  const text = await resp.text().catch(() => '');
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!resp.ok) throw new APIError(errorText(data, resp), resp.status, data);
  return data;
}

// errorText picks the message of an error body; OpenHands uses error, message or detail.
export function errorText(data, resp) {
  if (data && typeof data === 'object') {
    for (const key of ['error', 'message', 'detail']) {
      if (typeof data[key] === 'string' && data[key]) return data[key];
    }
    if (Array.isArray(data.detail)) return data.detail.map((d) => d && d.msg).filter(Boolean).join('; ');
  }
  if (typeof data === 'string' && data && data.length < 300 && !data.trimStart().startsWith('<')) return data;
  return `The server answered ${resp.status} ${resp.statusText}`.trim();
}

const onlineCallbacks = new Set();
let probing = false;

// onOnline registers fn to run when the server is reachable again; it returns the unregistration.
export function onOnline(fn) {
  onlineCallbacks.add(fn);
  return () => onlineCallbacks.delete(fn);
}

// serverUnreachable shows the offline bar and probes the server until it answers.
export function serverUnreachable() {
  setOffline(true);
  if (probing) return;
  probing = true;
  let delay = 500;
  const probe = async () => {
    try {
      const resp = await fetch('/alive', { cache: 'no-store' });
      if (resp.ok) {
        probing = false;
        setOffline(false);
        for (const fn of [...onlineCallbacks]) fn();
        return;
      }
    } catch {
      // still down
    }
    delay = Math.min(delay * 2, 10000);
    setTimeout(probe, delay);
  };
  setTimeout(probe, delay);
}
