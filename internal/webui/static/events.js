// Turning OpenHands events (actions and observations, events.md) into chat entries. An
// observation is shown inside the entry of the action it answers (its cause): a command and its
// output form one terminal block, an edit and its diff one file block.

import { h, markdown } from './dom.js';

// Actions and observations that are bookkeeping, not conversation.
const SKIP_ACTIONS = new Set(['system', 'recall', 'change_agent_state', 'null', 'condensation', 'condensation_request']);
const SKIP_OBSERVATIONS = new Set(['recall', 'null', 'agent_state_changed', 'think', 'condense']);

export class EventRenderer {
  constructor() {
    this.blocks = new Map(); // action id → its entry
    this.pending = null; // the entry of an action awaiting confirmation
    this.workdir = ''; // the agent's working directory: paths below it are shown relative to it
  }

  // shortPath is p relative to the working directory when it lies below it.
  shortPath(p) {
    const dir = this.workdir.replace(/\/+$/, '');
    return dir && p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p;
  }

  // render returns the new entry for ev, or null when ev is not shown or went into an existing
  // entry.
  render(ev) {
    if ('action' in ev) return this.action(ev);
    if ('observation' in ev) return this.observation(ev);
    return null;
  }

  action(ev) {
    const args = ev.args || {};
    if (SKIP_ACTIONS.has(ev.action) || args.hidden) return null;
    if (this.resolvesPending(ev)) return null;
    let entry;
    switch (ev.action) {
      case 'message':
        return bubble(ev.source === 'user' ? 'user' : 'agent', args.content ?? ev.message ?? '', ev);
      case 'run':
        entry = terminal(ev, args.thought, '$ ' + (args.is_input ? '(input) ' : '') + (args.command ?? ''));
        break;
      case 'run_ipython':
        entry = terminal(ev, args.thought, args.code ?? '');
        break;
      case 'edit':
        entry = this.fileEntry(ev, args.thought, editLabel(args));
        break;
      case 'write':
        entry = this.fileEntry(ev, args.thought, 'Write');
        entry.querySelector('.body').append(details('Content', h('pre', { class: 'code' }, args.content ?? '')));
        break;
      case 'read':
        entry = this.fileEntry(ev, args.thought, 'Read');
        break;
      case 'think':
        return h('li', { class: 'ev ev-think', 'data-id': ev.id }, h('p', { class: 'label' }, 'Thought'), markdown(args.thought || ev.message || ''));
      case 'finish':
        return finish(ev);
      case 'reject':
        return h('li', { class: 'ev ev-note', 'data-id': ev.id }, markdown(args.thought || 'The agent rejected the task.'));
      default:
        entry = h('li', { class: 'ev ev-generic', 'data-id': ev.id }, thought(args.thought), h('div', { class: 'body' }, markdown(ev.message || ev.action)));
    }
    if (Number.isInteger(ev.id)) this.blocks.set(ev.id, entry);
    if (args.confirmation_state === 'awaiting_confirmation') {
      entry.classList.add('awaiting');
      setBadge(entry, 'Waiting for your confirmation', 'warn');
      this.pending = entry;
    }
    return entry;
  }

  // resolvesPending: after a confirmation the controller adds the confirmed (or rejected) action
  // again with a new id; it belongs to the entry already shown.
  fileEntry(ev, thoughtText, label, path) {
    const p = path ?? (ev.args && ev.args.path) ?? (ev.extras && ev.extras.path) ?? '';
    const head = header(label, this.shortPath(p));
    const code = head.querySelector('.path');
    if (code) code.title = p;
    return h('li', { class: 'ev ev-file running', 'data-id': ev.id, 'data-kind': ev.action || ev.observation },
      thought(thoughtText),
      h('div', { class: 'file' }, head, h('div', { class: 'body' })),
    );
  }

  resolvesPending(ev) {
    const p = this.pending;
    const state = ev.args && ev.args.confirmation_state;
    if (!p || (state !== 'confirmed' && state !== 'rejected') || p.dataset.kind !== ev.action) return false;
    this.pending = null;
    p.classList.remove('awaiting');
    setBadge(p, state === 'confirmed' ? 'Confirmed' : 'Rejected', state === 'confirmed' ? 'muted' : 'bad');
    if (Number.isInteger(ev.id)) this.blocks.set(ev.id, p);
    return true;
  }

  observation(ev) {
    if (ev.observation === 'recall' && ev.extras && typeof ev.extras.working_dir === 'string' && ev.extras.working_dir) {
      this.workdir = ev.extras.working_dir;
    }
    if (SKIP_OBSERVATIONS.has(ev.observation) || (ev.extras && ev.extras.hidden)) return null;
    const entry = Number.isInteger(ev.cause) ? this.blocks.get(ev.cause) : undefined;
    const extras = ev.extras || {};
    switch (ev.observation) {
      case 'run':
      case 'run_ipython': {
        const own = entry && entry.querySelector('.output') ? entry : null;
        const target = own || terminal(ev, '', ev.observation === 'run' ? '$ ' + (extras.command ?? '') : extras.code ?? '');
        target.querySelector('.output').textContent = ev.content ?? '';
        const code = extras.metadata ? extras.metadata.exit_code : ev.success === false ? 1 : 0;
        if (ev.observation === 'run_ipython') setBadge(target, 'Done', 'ok');
        else if (code === 0) setBadge(target, 'exit 0', 'ok');
        else if (code === -1 || code === undefined) setBadge(target, 'still running or timed out', 'warn');
        else setBadge(target, `exit ${code}`, 'bad');
        target.classList.remove('running');
        return own ? null : target;
      }
      case 'edit':
      case 'read':
      case 'write': {
        const own = entry && entry.querySelector('.file') ? entry : null;
        const target = own || this.fileEntry(ev, '', ev.observation === 'read' ? 'Read' : 'Edit', extras.path);
        const failed = ev.observation !== 'write' && (!ev.content || /error:/i.test(ev.content));
        const diff = ev.observation === 'edit' ? (typeof extras.diff === 'string' && extras.diff ? extras.diff : extras.impl_source === 'llm_based_edit' ? ev.content : '') : '';
        const body = target.querySelector('.body');
        if (failed) body.append(h('pre', { class: 'code error-text' }, ev.content || 'The file operation returned nothing.'));
        else if (diff) body.append(diffView(diff, (p) => this.shortPath(p)));
        else if (ev.observation === 'read') body.append(details('Contents', h('pre', { class: 'code' }, ev.content)));
        else if (ev.content) body.append(h('p', { class: 'muted' }, ev.content));
        setBadge(target, failed ? 'failed' : 'done', failed ? 'bad' : 'ok');
        target.classList.remove('running');
        return own ? null : target;
      }
      case 'error': {
        if (entry) {
          const output = entry.querySelector('.output');
          if (output) {
            output.textContent = ev.content ?? '';
            output.classList.add('error-text');
          } else {
            (entry.querySelector('.body') || entry).append(h('pre', { class: 'code error-text' }, ev.content ?? ''));
          }
          setBadge(entry, 'error', 'bad');
          entry.classList.remove('running');
          return null;
        }
        return h('li', { class: 'ev ev-error', 'data-id': ev.id, role: 'note' }, h('p', { class: 'label' }, 'Error'), h('pre', { class: 'code' }, ev.content ?? ''));
      }
      case 'user_rejected':
        if (entry) {
          setBadge(entry, 'Rejected', 'bad');
          entry.classList.remove('running');
          return null;
        }
        return h('li', { class: 'ev ev-note', 'data-id': ev.id }, ev.content || 'Rejected.');
      default: {
        const body = h('div', { class: 'body' }, details(ev.message || ev.observation, h('pre', { class: 'code' }, ev.content ?? '')));
        if (entry) {
          entry.append(body);
          entry.classList.remove('running');
          setBadge(entry, 'done', 'ok');
          return null;
        }
        return h('li', { class: 'ev ev-generic', 'data-id': ev.id }, body);
      }
    }
  }
}

function bubble(who, text, ev) {
  return h('li', { class: `ev ev-msg ev-${who}`, 'data-id': ev.id },
    h('p', { class: 'label' }, who === 'user' ? 'You' : 'Agent'),
    markdown(text));
}

function thought(text) {
  return text ? markdown(text, 'md thought') : null;
}

function header(label, title) {
  return h('div', { class: 'head' }, h('span', { class: 'label' }, label), title ? h('code', { class: 'path' }, title) : null, h('span', { class: 'badge muted' }, 'running…'));
}

function terminal(ev, thoughtText, command) {
  return h('li', { class: 'ev ev-term running', 'data-id': ev.id, 'data-kind': ev.action || ev.observation },
    thought(thoughtText),
    h('figure', { class: 'term' },
      h('figcaption', {}, header(ev.action === 'run_ipython' || ev.observation === 'run_ipython' ? 'Python' : 'Command')),
      h('pre', { class: 'cmd' }, command),
      h('pre', { class: 'output', 'aria-label': 'Output' }),
    ),
  );
}


function editLabel(args) {
  switch (args.command) {
    case 'create': return 'Create';
    case 'insert': return 'Insert into';
    case 'undo_edit': return 'Undo edit of';
    default: return 'Edit';
  }
}

function finish(ev) {
  const args = ev.args || {};
  const text = args.final_thought || args.thought || ev.message || 'Done.';
  const done = String(args.task_completed ?? '').toLowerCase();
  const outcome = done === 'true' ? 'Task completed' : done === 'partial' ? 'Task partly completed' : done === 'false' ? 'Task not completed' : '';
  return h('li', { class: 'ev ev-msg ev-agent ev-finish', 'data-id': ev.id },
    h('p', { class: 'label' }, 'Agent'),
    markdown(text),
    outcome ? h('p', { class: `outcome ${done === 'true' ? 'ok' : 'warn'}` }, outcome) : null);
}

function setBadge(entry, text, tone) {
  const badge = entry.querySelector('.badge');
  if (!badge) return;
  badge.textContent = text;
  badge.className = `badge ${tone}`;
}

function details(summary, content) {
  return h('details', {}, h('summary', {}, summary), content);
}

// diffView shows a unified diff with added and removed lines marked; shorten turns the file names
// of its header lines into what is shown.
export function diffView(diff, shorten = (p) => p) {
  const pre = h('pre', { class: 'diff', 'aria-label': 'Changes' });
  for (let line of diff.split('\n')) {
    let cls = '';
    if (line.startsWith('+++ ') || line.startsWith('--- ')) {
      cls = 'd-file';
      line = line.slice(0, 4) + shorten(line.slice(4));
    } else if (line.startsWith('+++') || line.startsWith('---')) cls = 'd-file';
    else if (line.startsWith('@@')) cls = 'd-hunk';
    else if (line.startsWith('+')) cls = 'd-add';
    else if (line.startsWith('-')) cls = 'd-del';
    pre.append(h('span', { class: cls || null }, line + '\n'));
  }
  return pre;
}
