// Drives the built-in web UI in headless Chromium (playwright-core) for TestUIInBrowser.
// Usage: node browser.cjs '<spec json>'   spec: {url, llmURL, artifacts, chromium}
//
// Prints JSON lines: {"step": "..."} as it goes, {"screenshot": path} for each artifact,
// {"need": "stop"} / {"need": "start"} when the Go test must stop or start the server (it answers
// with a line on stdin once done), and {"ok": true} at the end. Any failure prints {"error": "..."},
// saves failure.png and exits 1.
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");

const spec = JSON.parse(process.argv[2]);
const say = (obj) => console.log(JSON.stringify(obj));
const step = (name) => say({ step: name });

// Lines from the Go test, one per request we made.
const answers = [];
let waiting = null;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(line);
  } else answers.push(line);
});
function ask(need) {
  say({ need });
  if (answers.length) return Promise.resolve(answers.shift());
  return new Promise((resolve) => (waiting = resolve));
}

async function shot(page, name) {
  const file = path.join(spec.artifacts, name);
  await page.screenshot({ path: file });
  say({ screenshot: file });
}

// waitText waits until the locator's first match contains text.
async function waitText(locator, text, timeout = 30000) {
  await locator.filter({ hasText: text }).first().waitFor({ state: "visible", timeout });
}

async function counts(page) {
  return page.evaluate(() => ({
    entries: document.querySelectorAll(".events > li").length,
    user: document.querySelectorAll(".ev-user").length,
    terminals: document.querySelectorAll(".ev-term").length,
    files: document.querySelectorAll(".ev-file").length,
    finishes: document.querySelectorAll(".ev-finish").length,
    ids: [...document.querySelectorAll(".events > li[data-id]")].map((li) => li.dataset.id),
  }));
}

// One event of each kind the page shows (events.md), some answering an action, some not.
const EVENT_KINDS = [
  { id: 1, source: "agent", action: "run", args: { command: "false", thought: "" } },
  { id: 2, source: "agent", observation: "error", cause: 1, content: "boom", extras: { error_id: "" } },
  { id: 3, source: "agent", action: "read", args: { path: "/w/a.txt" } },
  { id: 4, source: "agent", observation: "read", cause: 3, content: "hello", extras: { path: "/w/a.txt" } },
  { id: 5, source: "agent", action: "edit", args: { path: "/w/a.txt", command: "str_replace", old_str: "a", new_str: "b" } },
  { id: 6, source: "agent", observation: "edit", cause: 5, content: "ERROR:\nno match", extras: { path: "/w/a.txt", diff: "" } },
  { id: 7, source: "agent", action: "think", args: { thought: "**plan**" } },
  { id: 8, source: "agent", action: "browse", message: "Browsing http://x", args: { url: "http://x" } },
  { id: 9, source: "agent", observation: "browse", cause: 8, content: "page", extras: { url: "http://x" } },
  { id: 10, source: "agent", action: "run_ipython", args: { code: "print(1)" } },
  { id: 11, source: "agent", observation: "run_ipython", cause: 10, content: "1", extras: { code: "print(1)" } },
  { id: 12, source: "agent", observation: "run", cause: 999, content: "orphan", extras: { command: "ls", metadata: { exit_code: 2 } } },
  { id: 13, source: "agent", action: "message", args: { content: "<img src=x onerror=alert(1)>" } },
  { id: 14, source: "agent", action: "reject", args: { thought: "no" } },
  { id: 15, source: "user", action: "recall", args: { recall_type: "knowledge", query: "x" } },
  { id: 16, source: "agent", observation: "mystery", content: "<script>alert(1)</script>", extras: {} },
  { id: 17, source: "agent", action: "write", args: { path: "/w/b.txt", content: "<b>x</b>" } },
  { id: 18, source: "agent", observation: "write", cause: 17, content: "", extras: { path: "/w/b.txt" } },
  { id: 19, source: "agent", action: "finish", args: { final_thought: "done", task_completed: "partial" } },
  { id: 20, source: "agent", observation: "user_rejected", content: "Rejected.", extras: {} },
];

function same(a, b, what) {
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  if (ja !== jb) throw new Error(`${what}: expected ${ja}, got ${jb}`);
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "gohands-browser-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: spec.chromium,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const blocked = [];
  const pageErrors = [];
  let page;
  try {
    // Nothing but the server under test: every other request is refused and reported.
    await ctx.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === "127.0.0.1") return route.continue();
      blocked.push(u.href);
      return route.abort();
    });
    page = ctx.pages()[0] || (await ctx.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => { pageErrors.push("a dialog opened: " + d.message()); d.dismiss().catch(() => {}); });
    const status = page.locator(".statusbar");
    const agentState = (state) => page.locator(`[data-agent-state="${state}"]`).waitFor({ timeout: 60000 });

    step("first run: no LLM configured");
    await page.goto(spec.url + "/");
    await waitText(page.locator(".welcome"), "No language model is configured yet");
    await shot(page, "01-first-run.png");
    await page.locator(".welcome a", { hasText: "Choose a model" }).click();
    await page.waitForURL(/\/settings$/);

    step("every kind of event renders, and nothing of an event is taken as HTML");
    const rendered = await page.evaluate(async (events) => {
      const app = document.querySelector('script[type="module"]').src;
      const { EventRenderer } = await import(new URL("events.js", app).href);
      const r = new EventRenderer();
      return events.map((ev) => {
        const el = r.render(ev);
        return el ? { cls: el.className, text: el.textContent, tags: el.querySelectorAll("img, script").length } : null;
      });
    }, EVENT_KINDS);
    const shown = rendered.filter(Boolean);
    same(shown.length, 13, "entries rendered from the event kinds");
    same(shown.reduce((n, e) => n + e.tags, 0), 0, "img or script elements made from event text");
    same(rendered[14], null, "a recall action renders nothing");
    if (!shown.some((e) => e.text.includes("<img src=x onerror=alert(1)>"))) throw new Error("the HTML in a message was not shown as text");

    step("settings: bad input is refused, then saved");
    await page.locator("#llm_model").waitFor();
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText(page.locator("#llm_model-error"), "Choose a model");
    await page.fill("#llm_model", "openai/gpt-4o");
    await page.fill("#llm_base_url", "ftp://example.invalid");
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText(page.locator("#llm_base_url-error"), "http:// or https://");
    await waitText(page.locator("#llm_api_key-error"), "Enter an API key");
    await page.fill("#llm_base_url", spec.llmURL);
    await page.fill("#llm_api_key", "sk-test");
    await page.fill("#max_iterations", "30");
    await shot(page, "02-settings.png");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.waitForURL((u) => u.pathname === "/");
    await page.locator("#first-run").waitFor({ state: "hidden" });

    step("create a conversation and send a message");
    await page.getByRole("button", { name: "Start conversation" }).click();
    await page.waitForURL(/\/conversations\/[0-9a-f]+$/);
    const convURL = page.url();
    const convID = convURL.split("/").pop();
    await waitText(status, "Connection: connected");
    await page.getByRole("button", { name: "Send" }).click();
    await waitText(page.locator("#message-error"), "Type a message first");
    await page.fill("#message", "Write a script hello.sh that greets the world, then run it.");
    await page.keyboard.press("Enter");

    step("the command and its output appear");
    await waitText(page.locator(".ev-user"), "Write a script hello.sh");
    await waitText(page.locator(".ev-file .path"), "hello.sh");
    await waitText(page.locator(".ev-file .d-add"), 'echo "Hello from gohands!"');
    await waitText(page.locator(".ev-term .cmd"), "$ sh hello.sh");
    await waitText(page.locator(".ev-term .output"), "Hello from gohands!");
    await waitText(page.locator(".ev-term .badge"), "exit 0");
    await waitText(page.locator(".ev-finish"), "Task completed");
    await agentState("finished");
    await page.locator(".ev-finish code", { hasText: "hello.sh" }).waitFor(); // Markdown rendered
    await waitText(page.locator(".conv-title"), "Write a script hello.sh"); // the title given by the server
    await page.waitForTimeout(300);
    await shot(page, "03-conversation.png");
    const before = await counts(page);
    same([before.user, before.terminals, before.files, before.finishes], [1, 1, 1, 1], "entries before the reload (user, terminal, file, finish)");

    step("reload: the same history, once");
    await page.reload();
    await waitText(page.locator(".ev-term .output"), "Hello from gohands!");
    await waitText(page.locator(".ev-finish"), "Task completed");
    await agentState("finished");
    await waitText(status, "Connection: connected");
    await page.waitForTimeout(500); // anything duplicated would have arrived by now
    const after = await counts(page);
    same(after, before, "entries after the reload");
    await shot(page, "04-after-reload.png");

    step("server down: the page says so and reconnects");
    await ask("stop");
    await waitText(page.locator("#offline"), "Cannot reach the gohands server — retrying…");
    await shot(page, "05-server-down.png");
    await ask("start");
    await page.locator("#offline").waitFor({ state: "hidden", timeout: 60000 });
    await waitText(status, "Connection: connected", 60000);
    await page.waitForTimeout(500);
    same((await counts(page)).ids, before.ids, "entries after reconnecting to the restarted server");

    step("an invalid API key is reported plainly");
    await page.fill("#message", "Now say goodbye.");
    await page.getByRole("button", { name: "Send" }).click();
    await waitText(page.locator("#error"), "API key", 60000);
    await page.locator("#error a", { hasText: "Open settings" }).waitFor();
    await shot(page, "06-api-key-error.png");
    same((await counts(page)).user, 2, "user messages after the second one");

    step("list: rename and delete");
    await page.locator(".site-nav a", { hasText: "Conversations" }).click();
    const row = page.locator(`.conv-row[data-id="${convID}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: /^Rename/ }).click();
    await page.fill(".title-input", "Greeting script");
    await page.keyboard.press("Enter");
    await waitText(page.locator(`.conv-row[data-id="${convID}"] .conv-link`), "Greeting script");
    await page.getByRole("button", { name: "Start conversation" }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/conversations/") && u.href !== convURL);
    const otherID = page.url().split("/").pop();
    await waitText(status, "Connection: connected");
    await page.goBack();
    const other = page.locator(`.conv-row[data-id="${otherID}"]`);
    await other.waitFor();
    await other.getByRole("button", { name: /^Delete/ }).click();
    await other.locator(".confirm-delete").getByRole("button", { name: "Delete" }).click();
    await other.waitFor({ state: "detached" });
    await page.locator(".conv-row").first().waitFor();
    same(await page.locator(".conv-row").count(), 1, "conversations after the delete");
    await shot(page, "07-list.png");

    step("confirmation mode: confirm, then reject");
    await page.locator(".site-nav a", { hasText: "Settings" }).click();
    await page.locator("#confirmation_mode").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText(page.locator(".saved"), "Settings saved.");
    await page.locator(".site-nav a", { hasText: "Conversations" }).click();
    await page.fill("#task", "Print a word, but ask me first.");
    await page.getByRole("button", { name: "Start conversation" }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/conversations/") && u.href !== convURL);
    await waitText(page.locator(".ev-user"), "Print a word, but ask me first.");
    const confirmBar = page.locator(".confirm-bar");
    await confirmBar.waitFor({ timeout: 60000 });
    await waitText(page.locator(".ev-term.awaiting .cmd"), "$ echo confirmed");
    await agentState("awaiting_user_confirmation");
    await shot(page, "08-confirmation.png");
    await confirmBar.getByRole("button", { name: "Confirm" }).click();
    await waitText(page.locator(".ev-term .output"), "confirmed", 60000);
    await waitText(page.locator(".ev-finish"), "Task completed");
    await agentState("finished");
    same((await counts(page)).terminals, 1, "terminal entries once the confirmed command ran");
    await page.fill("#message", "Now clean the build directory.");
    await page.keyboard.press("Enter");
    await confirmBar.waitFor({ timeout: 60000 });
    await waitText(page.locator(".ev-term.awaiting .cmd"), "$ rm -rf build");
    await confirmBar.getByRole("button", { name: "Reject" }).click();
    await waitText(page.locator(".ev-term .badge"), "Rejected", 60000);
    await agentState("awaiting_user_input");
    await confirmBar.waitFor({ state: "hidden" });
    same((await counts(page)).terminals, 2, "terminal entries after the rejection");

    step("deep links");
    await page.goto(spec.url + "/settings");
    await page.locator("#llm_model").waitFor();
    same(await page.inputValue("#llm_model"), "openai/gpt-4o", "model shown in the settings");
    same(await page.inputValue("#llm_api_key"), "", "API key field (write-only)");
    await page.goto(convURL);
    await waitText(page.locator(".conv-title"), "Greeting script");
    await page.goto(spec.url + "/conversations/0123456789abcdef0123456789abcdef");
    await waitText(page.locator(".events"), "does not exist");

    if (pageErrors.length) throw new Error("uncaught errors in the page: " + pageErrors.join("; "));
    if (blocked.length) throw new Error("the page asked for outside addresses: " + blocked.join(", "));
    say({ ok: true });
  } catch (e) {
    say({ error: String((e && e.stack) || e), pageErrors, blocked });
    if (page) {
      await page.screenshot({ path: path.join(spec.artifacts, "failure.png") }).catch(() => {});
      fs.writeFileSync(path.join(spec.artifacts, "failure.html"), await page.content().catch(() => ""));
    }
    process.exitCode = 1;
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    process.stdin.destroy();
  }
}

main();
