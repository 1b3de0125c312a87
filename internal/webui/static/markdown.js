// A small Markdown renderer for chat messages. Safety comes first: every piece of the input is
// HTML-escaped before any tag is produced, links are kept only for http(s) URLs, and the output
// uses a fixed set of tags without attributes other than href, rel, target, class and start.
//
// Supported: fenced code blocks, inline code, headings, bold, italic, links and bare URLs, ordered
// and unordered lists (with nesting by indentation), block quotes, rules and paragraphs (single
// newlines are kept as line breaks, as people write chat messages).

const MAX_DEPTH = 6;

export function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// renderMarkdown returns the HTML of source.
export function renderMarkdown(source) {
  // NUL marks the placeholders of inline(); it never reaches it from the input.
  const text = String(source ?? '').replace(/\r\n?/g, '\n').replace(/\u0000/g, '\uFFFD');
  return blocks(text.split('\n'), 0);
}

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}>/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const BLANK = /^[ \t]*$/;

function isBlockStart(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

function blocks(lines, depth) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i++;
      continue;
    }
    let m = line.match(FENCE);
    if (m) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !isClosingFence(lines[i], fence)) body.push(lines[i++]);
      i++; // the closing fence, or the end of the text
      const cls = m[2] ? ` class="language-${escapeHTML(m[2])}"` : '';
      out.push(`<pre><code${cls}>${escapeHTML(body.join('\n'))}</code></pre>`);
      continue;
    }
    if (depth < MAX_DEPTH) {
      m = line.match(HEADING);
      if (m) {
        // Message headings sit below the page's own h1/h2.
        const level = Math.min(m[1].length + 2, 6);
        out.push(`<h${level}>${inline(m[2])}</h${level}>`);
        i++;
        continue;
      }
      if (RULE.test(line)) {
        out.push('<hr>');
        i++;
        continue;
      }
      if (QUOTE.test(line)) {
        const body = [];
        while (i < lines.length && QUOTE.test(lines[i])) body.push(lines[i++].replace(/^ {0,3}> ?/, ''));
        out.push(`<blockquote>${blocks(body, depth + 1)}</blockquote>`);
        continue;
      }
      m = line.match(ITEM);
      if (m) {
        i = list(lines, i, depth, out);
        continue;
      }
    }
    const para = [];
    while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || depth >= MAX_DEPTH || !isBlockStart(lines[i]))) {
      para.push(lines[i++].trim());
    }
    out.push(`<p>${inline(para.join('\n')).replace(/\n/g, '<br>')}</p>`);
  }
  return out.join('\n');
}

function isClosingFence(line, fence) {
  const t = line.trim();
  return t.length >= fence.length && t === fence[0].repeat(t.length);
}

// list renders the list starting at lines[i] into out and returns the index after it.
function list(lines, i, depth, out) {
  const first = lines[i].match(ITEM);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2][0]);
  const items = [];
  let current = null;
  while (i < lines.length) {
    const line = lines[i];
    const m = line.match(ITEM);
    if (m && m[1].length <= indent + 1 && /\d/.test(m[2][0]) === ordered) {
      current = [m[3]];
      items.push(current);
      i++;
      continue;
    }
    if (m && m[1].length <= indent + 1) break; // the other kind of list starts
    if (BLANK.test(line)) {
      const next = lines[i + 1];
      if (next !== undefined && (/^[ \t]{2,}\S/.test(next) || sameKindItem(next, indent, ordered))) {
        current.push('');
        i++;
        continue;
      }
      break;
    }
    if (/^[ \t]{2,}\S/.test(line)) {
      current.push(line.replace(new RegExp(`^ {0,${indent + 4}}`), ''));
      i++;
      continue;
    }
    if (isBlockStart(line)) break;
    current.push(line.trim()); // a lazy continuation line
    i++;
  }
  const tag = ordered ? 'ol' : 'ul';
  const start = ordered ? parseInt(first[2], 10) : 1;
  const attrs = ordered && start !== 1 ? ` start="${start}"` : '';
  const html = items.map((item) => {
    while (item.length > 1 && BLANK.test(item[item.length - 1])) item.pop();
    const rest = item.slice(1);
    if (!rest.some((l) => BLANK.test(l) || isBlockStart(l))) return `<li>${inline(item.join('\n')).replace(/\n/g, '<br>')}</li>`;
    return `<li>${inline(item[0])}\n${blocks(rest, depth + 1)}</li>`;
  });
  out.push(`<${tag}${attrs}>\n${html.join('\n')}\n</${tag}>`);
  return i;
}

function sameKindItem(line, indent, ordered) {
  const m = line.match(ITEM);
  return !!m && m[1].length <= indent + 1 && /\d/.test(m[2][0]) === ordered;
}

// Placeholders (NUL) end a URL: a code span set aside must not end up inside an href.
const URL_RE = /\bhttps?:\/\/[^\s<>()"'`\u0000]*[^\s<>()"'`\u0000.,;:!?*_]/g;

// inline formats one run of text: code spans and links are set aside first (as NUL-numbered
// placeholders), the rest is escaped, then emphasis is applied to the escaped text.
function inline(text) {
  const slots = [];
  const put = (html) => `\u0000${slots.push(html) - 1}\u0000`;
  let s = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, ticks, code) => put(`<code>${escapeHTML(code.replace(/^ (.*) $/s, '$1'))}</code>`));
  s = s.replace(/\[([^\]\n]+)\]\(\s*(https?:\/\/[^\s()<>\u0000]+)\s*\)/g, (_, label, url) => put(link(url, emphasis(escapeHTML(label)))));
  s = s.replace(/<(https?:\/\/[^\s<>\u0000]+)>/g, (_, url) => put(link(url, escapeHTML(url))));
  s = s.replace(URL_RE, (url) => put(link(url, escapeHTML(url))));
  s = emphasis(escapeHTML(s));
  const restore = (t) => t.replace(/\u0000(\d+)\u0000/g, (_, n) => restore(slots[Number(n)]));
  return restore(s);
}

function link(url, labelHTML) {
  return `<a href="${escapeHTML(url)}" rel="noopener noreferrer nofollow" target="_blank">${labelHTML}</a>`;
}

function emphasis(s) {
  return s
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/(^|[^*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?!\*)/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1<em>$2</em>');
}
