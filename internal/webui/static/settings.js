// The settings page: model, base URL, API key (write-only: the server only says whether one is
// set), agent, confirmation mode and maximum iterations. It posts the whole settings object as
// read back, as the OpenHands UI does, leaving the key out unless a new one was typed, so that the
// server keeps the stored one (server.md §2.3).

import { api, APIError } from './api.js';
import { h, clear } from './dom.js';

// Defaults for the first save, when the server has no settings yet.
const FIRST_SETTINGS = { language: 'en', agent: 'CodeActAgent', max_iterations: null, security_analyzer: '', confirmation_mode: false, enable_default_condenser: true };
// Read-only fields of GET /api/settings that are not settings.
const DERIVED = ['llm_api_key_set', 'search_api_key_set', 'provider_tokens_set', 'llm_api_key', 'search_api_key', 'sandbox_api_key', 'secrets_store'];

export class SettingsView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.disposed = false;
    clear(root).append(h('section', { class: 'page' }, h('h1', {}, 'Settings'), h('p', { class: 'muted' }, 'Loading…')));
    this.load();
  }

  async load() {
    let settings, models, agents;
    try {
      [settings, models, agents] = await Promise.all([
        this.app.loadSettings(),
        api('GET', '/api/options/models').catch(() => []),
        api('GET', '/api/options/agents').catch(() => []),
      ]);
    } catch (e) {
      if (this.disposed) return;
      clear(this.root).append(h('section', { class: 'page' }, h('h1', {}, 'Settings'),
        h('p', { class: 'field-error' }, e instanceof APIError && e.unreachable ? 'Cannot reach the gohands server. The page will load when it is back.' : `Could not load the settings: ${e.message}`)));
      return;
    }
    if (!this.disposed) this.build(settings, models || [], agents || []);
  }

  refresh() {
    if (!this.form) this.load();
  }

  build(settings, models, agents) {
    const s = settings || {};
    this.firstRun = settings === null;
    const field = (id, label, input, hint) => h('div', { class: 'field' },
      h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'assertive' }));

    this.model = h('input', { id: 'llm_model', type: 'text', list: 'model-list', autocomplete: 'off', spellcheck: 'false', placeholder: 'provider/model, e.g. anthropic/claude-sonnet-4-20250514', 'aria-describedby': 'llm_model-hint llm_model-error' });
    this.model.value = s.llm_model || '';
    this.baseURL = h('input', { id: 'llm_base_url', type: 'text', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://…', 'aria-describedby': 'llm_base_url-hint llm_base_url-error' });
    this.baseURL.value = s.llm_base_url || '';
    this.key = h('input', { id: 'llm_api_key', type: 'password', autocomplete: 'off', 'aria-describedby': 'llm_api_key-hint llm_api_key-error',
      placeholder: s.llm_api_key_set ? 'A key is saved: leave empty to keep it' : 'Paste the provider’s API key' });
    this.agent = h('select', { id: 'agent' });
    const agentNames = agents.length ? agents : ['CodeActAgent'];
    const current = s.agent || 'CodeActAgent';
    for (const name of agentNames.includes(current) ? agentNames : [current, ...agentNames]) {
      this.agent.append(h('option', { value: name, selected: name === current }, name));
    }
    this.confirm = h('input', { id: 'confirmation_mode', type: 'checkbox', checked: !!s.confirmation_mode });
    this.maxIter = h('input', { id: 'max_iterations', type: 'number', min: '1', step: '1', inputmode: 'numeric', placeholder: 'server default', 'aria-describedby': 'max_iterations-error' });
    if (s.max_iterations) this.maxIter.value = String(s.max_iterations);
    this.saved = h('p', { class: 'saved', role: 'status' });
    this.formError = h('p', { class: 'field-error', 'aria-live': 'assertive' });

    this.form = h('form', { class: 'settings card', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      field('llm_model', 'Model', this.model, 'The model as LiteLLM names it: provider/model.'),
      h('datalist', { id: 'model-list' }, models.map((m) => h('option', { value: m }))),
      field('llm_base_url', 'Base URL (optional)', this.baseURL, 'For OpenAI-compatible servers (vLLM, Ollama, LiteLLM proxy…); empty for the provider’s own endpoint.'),
      field('llm_api_key', 'API key', this.key, s.llm_api_key_set
        ? 'Stored encrypted and never shown again. Type a new key to replace it.'
        : 'Stored encrypted and never shown again. For a local server that needs no key, type none.'),
      field('agent', 'Agent', this.agent),
      h('div', { class: 'field check' }, this.confirm, h('label', { for: 'confirmation_mode' }, 'Confirmation mode: ask me before the agent runs a command')),
      field('max_iterations', 'Maximum iterations (optional)', this.maxIter, 'How many steps the agent may take per task.'),
      h('div', { class: 'form-row' }, this.formError, this.saved, h('button', { type: 'submit', class: 'primary' }, 'Save settings')));

    const intro = this.firstRun
      ? h('div', { class: 'notice', role: 'note' }, h('strong', {}, 'Welcome to gohands. '), 'No language model is configured yet: choose one below and save to start your first conversation.')
      : null;
    clear(this.root).append(h('section', { class: 'page' }, h('h1', {}, 'Settings'), intro, this.form));
    (this.firstRun ? this.model : this.form.querySelector('button[type=submit]')).focus({ preventScroll: true });
  }

  validate() {
    let ok = true;
    const fail = (id, msg) => {
      this.form.querySelector(`#${id}-error`).textContent = msg;
      this.form.querySelector(`#${id}`).setAttribute('aria-invalid', 'true');
      if (ok) this.form.querySelector(`#${id}`).focus();
      ok = false;
    };
    for (const el of this.form.querySelectorAll('.field-error')) el.textContent = '';
    for (const el of this.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    if (!this.model.value.trim()) fail('llm_model', 'Choose a model, for example anthropic/claude-sonnet-4-20250514.');
    const base = this.baseURL.value.trim();
    if (base) {
      let url = null;
      try { url = new URL(base); } catch { /* reported below */ }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail('llm_base_url', 'The base URL must be a full http:// or https:// address.');
    }
    const key = this.key.value.trim();
    if (!key && !(this.app.settings && this.app.settings.llm_api_key_set)) fail('llm_api_key', 'Enter an API key (for a local server that needs none, type none).');
    if (this.key.value && !key) fail('llm_api_key', 'The API key is only spaces.');
    const iter = this.maxIter.value.trim();
    if (iter && !(/^\d+$/.test(iter) && Number(iter) >= 1)) fail('max_iterations', 'Use a whole number of at least 1, or leave it empty.');
    return ok;
  }

  async save() {
    this.saved.textContent = '';
    this.formError.textContent = '';
    if (!this.validate()) return;
    const body = { ...FIRST_SETTINGS, ...(this.app.settings || {}) };
    for (const k of DERIVED) delete body[k];
    body.llm_model = this.model.value.trim();
    body.llm_base_url = this.baseURL.value.trim();
    body.agent = this.agent.value;
    body.confirmation_mode = this.confirm.checked;
    body.max_iterations = this.maxIter.value.trim() ? Number(this.maxIter.value.trim()) : null;
    if (this.key.value.trim()) body.llm_api_key = this.key.value.trim();
    const button = this.form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await api('POST', '/api/settings', body);
      await this.app.loadSettings();
    } catch (e) {
      this.formError.textContent = `The settings were not saved: ${e.message}`;
      return;
    } finally {
      button.disabled = false;
    }
    this.key.value = '';
    this.key.placeholder = 'A key is saved: leave empty to keep it';
    if (this.firstRun) {
      this.app.navigate('/');
      return;
    }
    this.saved.textContent = 'Settings saved.';
  }

  dispose() {
    this.disposed = true;
  }
}
