// DOM helpers. h() builds elements from text, never from HTML; markdown() is the one place where
// HTML is inserted, and it inserts only what the escaping renderer produced.

import { renderMarkdown } from './markdown.js';

// h creates an element: props become attributes (on* become listeners, class sets className,
// true is an empty attribute, false/null/undefined are skipped), children are nodes or text.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

// markdown returns a div holding text rendered as Markdown.
export function markdown(text, className = 'md') {
  const div = document.createElement('div');
  div.className = className;
  div.innerHTML = renderMarkdown(text);
  return div;
}

// clear removes every child of el and returns it.
export function clear(el) {
  el.replaceChildren();
  return el;
}

// relativeTime is a short "how long ago" for an ISO date, or '' when there is none.
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 24) return `${hrs} h ago`;
  const days = Math.round(hrs / 24);
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`;
  return new Date(t).toLocaleDateString();
}

// timeElement is a <time> showing relativeTime, with the full date as its tooltip.
export function timeElement(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, relativeTime(iso));
}
