// The two page-wide messages: "offline" while the server cannot be reached, and one dismissable
// error. Both are live regions, so screen readers announce them.

import { h, clear } from './dom.js';

export const UNREACHABLE = 'Cannot reach the gohands server — retrying…';

// setOffline shows or hides the "cannot reach the server" bar.
export function setOffline(offline) {
  const el = document.getElementById('offline');
  if (!el) return;
  if (offline && el.hidden) {
    el.textContent = UNREACHABLE;
    el.hidden = false;
  } else if (!offline) {
    el.hidden = true;
  }
}

export function isOffline() {
  const el = document.getElementById('offline');
  return !!el && !el.hidden;
}

// showError shows message (plain text) with an optional link {href, text}; a later call replaces it.
export function showError(message, link) {
  const el = document.getElementById('error');
  if (!el) return;
  clear(el).append(h('span', { class: 'banner-text' }, message));
  if (link) el.append(h('a', { href: link.href, class: 'banner-link' }, link.text));
  el.append(h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss this message', onclick: hideError }, '×'));
  el.hidden = false;
}

export function hideError() {
  const el = document.getElementById('error');
  if (el) el.hidden = true;
}
