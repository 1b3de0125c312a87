// The page's entry point: a client-side router over three views (the conversation list at /,
// a conversation at /conversations/<id>, the settings at /settings) and the first-run check.
// The server answers index.html for every page path, so deep links and reloads work.

import { api, onOnline } from './api.js';
import { hideError } from './banner.js';
import { h, clear } from './dom.js';
import { ConversationView } from './conversation.js';
import { HomeView } from './home.js';
import { SettingsView } from './settings.js';

const app = {
  main: null,
  view: null,
  // settings: undefined until loaded, null when none are saved (no LLM configured), else the object.
  settings: undefined,

  navigate(path, { replace = false } = {}) {
    if (replace) history.replaceState(null, '', path);
    else if (path !== location.pathname) history.pushState(null, '', path);
    route();
  },

  // loadSettings reads the saved settings; a 404 means nothing is configured yet.
  async loadSettings() {
    try {
      this.settings = await api('GET', '/api/settings');
    } catch (e) {
      if (e.status === 404) this.settings = null;
      else throw e;
    }
    updateFirstRun();
    if (this.view && this.view.settingsChanged) this.view.settingsChanged();
    return this.settings;
  },

  conversationsChanged() {
    if (this.view && this.view.refresh) this.view.refresh();
  },
};

function route() {
  if (app.view && app.view.dispose) app.view.dispose();
  app.view = null;
  hideError();
  document.title = 'gohands';
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const conv = path.match(/^\/conversations\/([A-Za-z0-9_-]+)$/);
  for (const link of document.querySelectorAll('.site-nav a')) {
    const here = link.getAttribute('href') === path || (link.getAttribute('href') === '/' && conv);
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (path === '/') app.view = new HomeView(app.main, app);
  else if (conv) app.view = new ConversationView(app.main, conv[1], app);
  else if (path === '/settings' || path.startsWith('/settings/')) app.view = new SettingsView(app.main, app);
  else {
    clear(app.main).append(h('section', { class: 'page' }, h('h1', {}, 'Page not found'),
      h('p', {}, 'There is nothing at this address. ', h('a', { href: '/' }, 'Go to the conversations'), '.')));
  }
  updateFirstRun();
  if (app.view && app.view.focus) app.view.focus();
  else app.main.focus({ preventScroll: true });
}

// updateFirstRun shows, on conversation pages, that no LLM is configured yet (the home page says
// so in its own way, the settings page is where to go).
function updateFirstRun() {
  const el = document.getElementById('first-run');
  if (!el) return;
  el.hidden = app.settings !== null || !location.pathname.startsWith('/conversations/');
}

// Same-origin links navigate inside the page; modified clicks keep their browser meaning.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented) return;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  app.navigate(url.pathname);
});

window.addEventListener('popstate', route);

onOnline(() => {
  if (app.settings === undefined) app.loadSettings().catch(() => {});
  if (app.view && app.view.refresh) app.view.refresh();
});

app.main = document.getElementById('main');
route();
app.loadSettings().catch(() => {});
