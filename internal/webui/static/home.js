// The home page: start a conversation, and the list of conversations (title, status, last update)
// with rename and delete. The list refreshes itself while the page is open.

import { api, APIError } from './api.js';
import { showError } from './banner.js';
import { h, clear, timeElement } from './dom.js';
import { runtimeLabel } from './labels.js';

const REFRESH_MS = 5000;
const STATUS = { STARTING: 'Starting', RUNNING: 'Running', STOPPED: 'Stopped' };

export class HomeView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.disposed = false;
    this.editing = null; // the id whose row is being renamed or deleted: refreshes keep it
    this.build();
    this.refresh();
    this.timer = setInterval(() => { if (!this.editing && !document.hidden) this.refresh(); }, REFRESH_MS);
  }

  build() {
    this.task = h('textarea', { id: 'task', rows: '3', placeholder: 'For example: add a test for the parser and make it pass' });
    this.formError = h('p', { class: 'field-error', 'aria-live': 'assertive' });
    this.startButton = h('button', { type: 'submit', class: 'primary' }, 'Start conversation');
    const form = h('form', { class: 'new-conv card', onsubmit: (e) => { e.preventDefault(); this.create(); } },
      h('h1', {}, 'New conversation'),
      h('label', { for: 'task' }, 'What should the agent do? ', h('span', { class: 'muted' }, '(optional: you can also write it in the conversation)')),
      this.task,
      h('div', { class: 'form-row' }, this.formError, this.startButton));
    this.task.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.create(); }
    });
    this.list = h('ul', { class: 'conv-list', 'aria-label': 'Conversations' });
    this.empty = h('p', { class: 'muted', hidden: true }, 'No conversations yet.');
    // First run: until a model is configured, the page leads to the settings instead.
    this.welcome = h('div', { class: 'welcome card', hidden: true },
      h('h1', {}, 'Welcome to gohands'),
      h('p', {}, 'No language model is configured yet. The agent needs one to work: choose a model and enter its API key in the settings.'),
      h('p', {}, h('a', { href: '/settings', class: 'button primary' }, 'Choose a model')));
    this.form = form;
    clear(this.root).append(h('section', { class: 'page home' }, this.welcome, form,
      h('h2', {}, 'Conversations'), this.empty, this.list));
    this.settingsChanged();
  }

  settingsChanged() {
    const firstRun = this.app.settings === null;
    this.welcome.hidden = !firstRun;
    this.form.hidden = firstRun;
  }

  async create() {
    this.formError.textContent = '';
    this.startButton.disabled = true;
    const text = this.task.value.trim();
    try {
      const body = text ? { initial_user_msg: text } : {};
      const res = await api('POST', '/api/conversations', body);
      this.app.navigate(`/conversations/${res.conversation_id}`);
    } catch (e) {
      if (e instanceof APIError && (e.msgID === 'CONFIGURATION$SETTINGS_NOT_FOUND' || e.msgID === 'STATUS$ERROR_LLM_AUTHENTICATION')) {
        this.formError.append(e.msgID === 'CONFIGURATION$SETTINGS_NOT_FOUND' ? 'No language model is configured yet. ' : 'No API key is set for the model. ',
          h('a', { href: '/settings' }, 'Open settings'));
      } else {
        this.formError.textContent = `Could not start the conversation: ${e.message}`;
      }
    } finally {
      this.startButton.disabled = false;
    }
  }

  async refresh() {
    let page;
    try {
      page = await api('GET', '/api/conversations?limit=100');
    } catch (e) {
      if (!(e instanceof APIError && e.unreachable)) showError(`Could not load the conversations: ${e.message}`);
      return;
    }
    if (this.disposed || this.editing) return;
    const rows = (page && page.results) || [];
    this.empty.hidden = rows.length > 0;
    clear(this.list).append(...rows.map((c) => this.row(c)));
  }

  row(c) {
    const link = h('a', { href: `/conversations/${c.conversation_id}`, class: 'conv-link' }, c.title || c.conversation_id);
    const status = c.status || 'STOPPED';
    const runtime = status !== 'STOPPED' && c.runtime_status && c.runtime_status !== 'STATUS$READY' ? ` (sandbox ${runtimeLabel(c.runtime_status) || c.runtime_status})` : '';
    const li = h('li', { class: 'conv-row', 'data-id': c.conversation_id },
      h('div', { class: 'conv-main' }, link,
        h('div', { class: 'conv-meta' },
          h('span', { class: `badge status-${status.toLowerCase()}` }, (STATUS[status] || status) + runtime),
          h('span', { class: 'muted' }, 'updated '), timeElement(c.last_updated_at || c.created_at))),
      h('div', { class: 'conv-actions' },
        h('button', { type: 'button', onclick: () => this.rename(li, c), 'aria-label': `Rename ${c.title}` }, 'Rename'),
        h('button', { type: 'button', class: 'danger', onclick: () => this.confirmDelete(li, c), 'aria-label': `Delete ${c.title}` }, 'Delete')));
    return li;
  }

  rename(li, c) {
    this.editing = c.conversation_id;
    const input = h('input', { type: 'text', maxlength: '200', 'aria-label': 'New title', class: 'title-input' });
    input.value = c.title || '';
    const error = h('p', { class: 'field-error', 'aria-live': 'assertive' });
    const form = h('form', { class: 'rename', onsubmit: async (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) {
        error.textContent = 'Type a title first.';
        return;
      }
      try {
        await api('PATCH', `/api/conversations/${c.conversation_id}`, { title });
      } catch (err) {
        error.textContent = `Could not rename: ${err.message}`;
        return;
      }
      this.editing = null;
      this.refresh();
    } },
    input, h('button', { type: 'submit', class: 'primary' }, 'Save'),
    h('button', { type: 'button', onclick: () => { this.editing = null; this.refresh(); } }, 'Cancel'), error);
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { this.editing = null; this.refresh(); } });
    clear(li).append(form);
    input.focus();
    input.select();
  }

  confirmDelete(li, c) {
    this.editing = c.conversation_id;
    const error = h('p', { class: 'field-error', 'aria-live': 'assertive' });
    const cancel = h('button', { type: 'button', onclick: () => { this.editing = null; this.refresh(); } }, 'Cancel');
    clear(li).append(h('div', { class: 'confirm-delete', role: 'group', 'aria-label': 'Confirm deletion' },
      h('span', {}, 'Delete “', c.title, '” and its sandbox? This cannot be undone.'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        try {
          await api('DELETE', `/api/conversations/${c.conversation_id}`);
        } catch (err) {
          error.textContent = `Could not delete: ${err.message}`;
          return;
        }
        this.editing = null;
        this.refresh();
      } }, 'Delete'), cancel, error));
    cancel.focus();
  }

  dispose() {
    this.disposed = true;
    clearInterval(this.timer);
  }
}
