package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/llm/llmtest"
)

// TestOpenHandsFrontend runs the unmodified OpenHands 0.50 web UI against gohands in headless
// Chromium. It needs a production build of that UI (its frontend/ directory, `npm ci && npm run
// build`), which is not part of this repository: set GOHANDS_OPENHANDS_FRONTEND to its build
// directory to run it; it is skipped otherwise. Screenshots go to GOHANDS_ARTIFACTS when set.
func TestOpenHandsFrontend(t *testing.T) {
	dir := os.Getenv("GOHANDS_OPENHANDS_FRONTEND")
	if dir == "" {
		t.Skip("set GOHANDS_OPENHANDS_FRONTEND to a built OpenHands 0.50 frontend to run this check")
	}
	mods := nodeModules(t)
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("chromium is missing: apt-get install --no-install-recommends chromium")
	}
	if _, err := os.Stat(filepath.Join(mods, "playwright-core")); err != nil {
		t.Fatalf("playwright-core is missing: npm ci --prefix test/node")
	}
	llm := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt && cat hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
	})
	srv := startServe(t, t.TempDir(), "", "--frontend-dir", dir)
	shots := os.Getenv("GOHANDS_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	spec, _ := json.Marshal(map[string]string{"url": srv.url, "llmURL": llm.URL, "shots": shots})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "openhands_ui.cjs"), string(spec))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := cmd.Output()
	var res struct {
		OK    bool     `json:"ok"`
		Steps []string `json:"steps"`
		Error string   `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(string(out))), &res); err != nil || jerr != nil || !res.OK {
		t.Fatalf("OpenHands UI: %v %v; steps passed %q; error %s\nserver log:\n%s", err, jerr, res.Steps, res.Error, srv.logs)
	}
	t.Logf("steps passed: %q; screenshots in %s", res.Steps, shots)
}
