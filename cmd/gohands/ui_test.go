package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/llm/llmtest"
)

// chromiumPath is Debian's Chromium, which the browser test drives; it fails the test with how to
// install it when it is missing (GOHANDS_SKIP_BROWSER=1 skips instead).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("GOHANDS_SKIP_BROWSER") == "1" {
		t.Skip("GOHANDS_SKIP_BROWSER=1")
	}
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the browser test needs Chromium at %s: apt-get install --no-install-recommends chromium (or set GOHANDS_SKIP_BROWSER=1): %v", path, err)
	}
	return path
}

// artifactsDir is where screenshots go: $GOHANDS_ARTIFACTS when set (kept), else a temporary
// directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GOHANDS_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatalf("GOHANDS_ARTIFACTS: %v", err)
	}
	return dir
}

// TestUIServedAtRoot: without --frontend-dir the built-in UI is served at /, and page paths fall
// back to it so deep links and reloads work.
func TestUIServedAtRoot(t *testing.T) {
	srv := startServe(t, t.TempDir(), "")
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	script := regexp.MustCompile(`<script type="module" src="(/assets/[0-9a-f]+/app\.js)">`)
	var app string
	for _, path := range []string{"/", "/conversations/0123456789abcdef", "/settings"} {
		resp, body := get(path)
		m := script.FindStringSubmatch(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || m == nil {
			t.Fatalf("GET %s: %d %s %.300q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		app = m[1]
	}
	resp, _ := get(app)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("GET %s: %d %v", app, resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/api/nothing-here", "/assets/0123456789ab/app.js"} {
		if resp, _ := get(path); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestUIInBrowser is the built-in UI end to end, in headless Chromium: the first-run flow through
// the settings page (with bad input refused), a conversation whose scripted model edits a file and
// runs a command, a reload showing the same history once, the server going down and coming back,
// an API key the model rejects, renaming and deleting conversations, and confirmation mode with a
// command confirmed and one rejected. Screenshots are saved.
func TestUIInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	mods := nodeModules(t)
	if _, err := os.Stat(filepath.Join(mods, "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed: run `npm ci --prefix test/node`: %v", err)
	}
	artifacts := artifactsDir(t)
	state := t.TempDir()

	finish, _ := json.Marshal(map[string]string{
		"message":        "Created `hello.sh` and ran it:\n\n```\nHello from gohands!\n```\n\nRun it again with **sh hello.sh**.",
		"task_completed": "true",
	})
	llm := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Calls("I'll write the script, then run it.", llmtest.ToolCall{Name: "str_replace_editor",
			Args: `{"command": "create", "path": "@WORKSPACE@/hello.sh", "file_text": "#!/bin/sh\necho \"Hello from gohands!\"\n"}`}),
		llmtest.Call("execute_bash", `{"command": "sh hello.sh"}`),
		llmtest.Call("finish", string(finish)),
		llmtest.Fail(401, "Incorrect API key provided"),
		// In confirmation mode, a new conversation: one command confirmed, one rejected.
		llmtest.Call("execute_bash", `{"command": "echo confirmed"}`),
		llmtest.Call("finish", `{"message": "Printed it.", "task_completed": "true"}`),
		llmtest.Call("execute_bash", `{"command": "rm -rf build"}`),
	})
	model := workspaceProxy(t, llm.URL, filepath.Join(state, "workspace"))

	srv := startServe(t, state, "")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.url, "http://"))

	spec, _ := json.Marshal(map[string]string{"url": srv.url, "llmURL": model, "artifacts": artifacts, "chromium": chromium})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "browser.cjs"), string(spec))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ok bool
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		var msg struct {
			Step, Screenshot, Need, Error string
			OK                            bool
			PageErrors                    []string `json:"pageErrors"`
			Blocked                       []string
		}
		if err := json.Unmarshal(lines.Bytes(), &msg); err != nil {
			t.Logf("browser: %s", lines.Text())
			continue
		}
		switch {
		case msg.Step != "":
			t.Logf("browser: %s", msg.Step)
		case msg.Screenshot != "":
			t.Logf("screenshot: %s", msg.Screenshot)
		case msg.Need == "stop":
			srv.stop()
			io.WriteString(stdin, "stopped\n")
		case msg.Need == "start":
			srv = startServe(t, state, "", "--port", port)
			io.WriteString(stdin, "started\n")
		case msg.Error != "":
			t.Errorf("browser: %s\npage errors: %q\nblocked: %q\nartifacts in %s", msg.Error, msg.PageErrors, msg.Blocked, artifacts)
		case msg.OK:
			ok = true
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil || !ok {
		t.Fatalf("browser test: %v (done: %v)\nstderr:\n%s\nserver log:\n%s", err, ok, stderr.String(), srv.logs)
	}
	if n := llm.Remaining(); n != 0 {
		t.Errorf("%d scripted model turns were not used", n)
	}
}

// workspaceProxy stands between gohands and the scripted model: it replaces @WORKSPACE@ in the
// model's answers with the workspace of the one conversation that talks to the model, whose id the
// script cannot know in advance (the editor wants absolute paths).
func workspaceProxy(t *testing.T, target, workspaces string) string {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if bytes.Contains(answer, []byte("@WORKSPACE@")) {
			dirs, _ := filepath.Glob(filepath.Join(workspaces, "*"))
			if len(dirs) != 1 {
				t.Errorf("workspace proxy: want exactly one conversation workspace, found %q", dirs)
			} else {
				answer = bytes.ReplaceAll(answer, []byte("@WORKSPACE@"), []byte(dirs[0]))
			}
		}
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}
