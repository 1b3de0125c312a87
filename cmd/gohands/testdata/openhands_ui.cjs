// Drives the unmodified OpenHands 0.50 web UI, served by gohands --frontend-dir, in headless
// Chromium: first-run settings dialog, Launch from Scratch, a message, the agent's command and
// answer streaming in, a reload restoring the conversation, and the conversation list.
// Usage: node openhands_ui.cjs '<{"url","llmURL","shots"}>'; prints one JSON line with the steps passed.
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const spec = JSON.parse(process.argv[2]);
const steps = [];
const step = (name) => steps.push(name);

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "gh-oh-ui-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 },
  });
  await ctx.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === "127.0.0.1" || u.protocol === "data:" || u.protocol === "blob:") return route.continue();
    return route.abort();
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const shot = (name) => page.screenshot({ path: path.join(spec.shots, name + ".png") });
  try {
    await page.goto(spec.url + "/");
    await page.getByTestId("ai-config-modal").waitFor({ timeout: 30000 });
    step("first-run settings dialog");
    await shot("1-first-run");

    const res = await fetch(spec.url + "/api/settings", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ llm_model: "openai/gpt-4o", llm_api_key: "sk-test", llm_base_url: spec.llmURL,
        agent: "CodeActAgent", language: "en", user_consents_to_analytics: false }),
    });
    if (res.status !== 200) throw new Error("saving settings: " + res.status);
    await page.reload();
    await page.getByTestId("header-launch-button").click({ timeout: 30000 });
    await page.waitForURL(/\/conversations\/[0-9a-f]{32}/, { timeout: 30000 });
    step("launch from scratch");

    const input = page.getByTestId("chat-input").locator("textarea");
    await input.waitFor({ timeout: 60000 });
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="chat-input"] textarea');
      return t && !t.disabled;
    }, null, { timeout: 60000 });
    await input.fill("create hello.txt containing hi");
    await input.press("Enter");
    step("message sent");
    await page.getByText("Created hello.txt.", { exact: false }).first().waitFor({ timeout: 60000 });
    await page.getByText("printf hi > hello.txt", { exact: false }).first().waitFor({ timeout: 10000 });
    step("agent command and answer streamed");
    await shot("2-conversation");

    await page.reload();
    await page.getByText("Created hello.txt.", { exact: false }).first().waitFor({ timeout: 60000 });
    await page.getByText("create hello.txt containing hi", { exact: false }).first().waitFor({ timeout: 10000 });
    step("reload restores the conversation");
    await shot("3-after-reload");

    await page.getByTestId("toggle-conversation-panel").click();
    await page.getByTestId("conversation-card").first().waitFor({ timeout: 30000 });
    step("conversation list");
    await shot("4-list");
    console.log(JSON.stringify({ ok: true, steps }));
  } catch (err) {
    await shot("failure").catch(() => {});
    console.log(JSON.stringify({ ok: false, steps, error: String(err && err.stack || err) }));
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})();
