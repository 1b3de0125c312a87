package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/llm/llmtest"
	"github.com/gohands/gohands/internal/testbin"
)

// sandboxBinary is the static gohands binary the sandbox runs (the test binary cannot be the
// action server).
func sandboxBinary(t *testing.T) string { return testbin.Static(t) }

func writeConfig(t *testing.T, baseURL, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	text := "[llm]\nmodel = \"openai/gpt-4o\"\nbase_url = \"" + baseURL + "\"\napi_key = \"sk-test\"\nnum_retries = 2\nretry_min_wait = 0\nretry_max_wait = 0\n" + extra
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunCreatesFile is the end-to-end run of the issue: a scripted OpenAI-compatible LLM asks for
// a command, the local sandbox runs it, the LLM finishes; the file exists and the trajectory holds
// the expected actions, observations and agent states.
func TestRunCreatesFile(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
	})
	ws := t.TempDir()
	traj := filepath.Join(t.TempDir(), "trajectory.json")
	code, out, errs := run(t, "run", "--config-file", writeConfig(t, srv.URL, ""), "--state-dir", t.TempDir(),
		"--runtime", "local", "--sandbox-binary", sandboxBinary(t), "--workspace", ws, "--no-color",
		"--save-trajectory", traj, "-t", "create hello.txt containing hi")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	data, err := os.ReadFile(filepath.Join(ws, "hello.txt"))
	if err != nil || string(data) != "hi" {
		t.Fatalf("hello.txt: %q %v\n%s", data, err, out)
	}
	if !strings.Contains(out, "$ printf hi > hello.txt") || !strings.Contains(out, "done: Created hello.txt.") {
		t.Errorf("terminal output:\n%s", out)
	}
	var events []map[string]any
	raw, err := os.ReadFile(traj)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range events {
		switch {
		case ev["action"] != nil:
			kinds = append(kinds, "a:"+ev["action"].(string))
		case ev["observation"] == "agent_state_changed":
			kinds = append(kinds, "s:"+ev["extras"].(map[string]any)["agent_state"].(string))
		default:
			kinds = append(kinds, "o:"+ev["observation"].(string))
		}
	}
	joined := strings.Join(kinds, " ")
	for _, want := range []string{"a:system", "a:message", "a:recall", "o:recall", "s:running", "a:run", "o:run", "a:finish", "s:finished"} {
		if !strings.Contains(joined, want) {
			t.Errorf("trajectory lacks %s: %s", want, joined)
		}
	}
	if strings.Index(joined, "a:run") > strings.Index(joined, "o:run") || strings.Index(joined, "o:run") > strings.Index(joined, "a:finish") {
		t.Errorf("trajectory out of order: %s", joined)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("LLM called %d times, want 2", n)
	}
}

// A rejected API key ends the run with an error that says so, without the key.
func TestRunBadAPIKey(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Fail(401, "Incorrect API key provided")})
	code, out, errs := run(t, "run", "--config-file", writeConfig(t, srv.URL, ""), "--state-dir", t.TempDir(),
		"--runtime", "local", "--sandbox-binary", sandboxBinary(t), "--workspace", t.TempDir(), "--no-color",
		"-t", "hello")
	if code != 1 || !strings.Contains(out+errs, "API key") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, "sk-test") {
		t.Fatal("the API key was printed")
	}
}

// Replaying OpenHands' recorded basic.json trajectory reproduces its file edit and finishes.
func TestRunReplay(t *testing.T) {
	fixture := "../../../shared/fixtures/openhands-0.50/trajectories/basic.json"
	if _, err := os.Stat(fixture); err != nil {
		t.Fatalf("fixtures missing (../shared beside the repository): %v", err)
	}
	ws := t.TempDir()
	// The recording edits /workspace/game_2048.py: give the local sandbox that path inside the
	// workspace by running it in a workspace named /workspace is not possible on the host, so the
	// replay runs in the Docker-free local sandbox with the recorded absolute path rewritten.
	data, _ := os.ReadFile(fixture)
	data = []byte(strings.ReplaceAll(string(data), "/workspace/", ws+"/"))
	rec := filepath.Join(t.TempDir(), "basic.json")
	os.WriteFile(rec, data, 0o600)
	code, out, errs := run(t, "run", "--state-dir", t.TempDir(), "--runtime", "local",
		"--sandbox-binary", sandboxBinary(t), "--workspace", ws, "--no-color", "--replay", rec)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	game, err := os.ReadFile(filepath.Join(ws, "game_2048.py"))
	if err != nil || !strings.Contains(string(game), "class Game2048") {
		t.Fatalf("the recorded edit was not reproduced: %v\n%s", err, out)
	}
}

// The same task in the Docker sandbox (the test image, no network).
func TestRunCreatesFileDocker(t *testing.T) {
	if os.Getenv("GOHANDS_SKIP_DOCKER") == "1" {
		t.Skip("GOHANDS_SKIP_DOCKER=1")
	}
	if err := exec.Command("docker", "image", "inspect", "gohands-test-sandbox:latest").Run(); err != nil {
		t.Fatalf("the Docker test image is missing or no engine answers (%v): start dockerd and run bash testdata/sandbox-image/build.sh, or set GOHANDS_SKIP_DOCKER=1", err)
	}
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt"}`),
		llmtest.Call("execute_bash", `{"command": "cat /workspace/hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
	})
	cfg := writeConfig(t, srv.URL, "[sandbox]\nbase_container_image = \"gohands-test-sandbox:latest\"\nnetwork = \"none\"\n")
	code, out, errs := run(t, "run", "--config-file", cfg, "--state-dir", t.TempDir(), "--runtime", "docker",
		"--sandbox-binary", sandboxBinary(t), "--no-color", "-t", "create hello.txt containing hi")
	if _, rest, ok := strings.Cut(errs, "conversation "); ok {
		id, _, _ := strings.Cut(rest, " ")
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", "openhands-runtime-"+id).Run() })
	}
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "$ cat /workspace/hello.txt\n  hi\n") {
		t.Errorf("the file is not in the container:\n%s", out)
	}
}

// The same task driven by a scripted Anthropic messages API.
func TestRunCreatesFileAnthropic(t *testing.T) {
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
	})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte("[llm]\nmodel = \"anthropic/claude-sonnet-4-20250514\"\nbase_url = \""+srv.URL+
		"\"\napi_key = \"sk-ant-test\"\nnum_retries = 1\n"), 0o600)
	ws := t.TempDir()
	code, out, errs := run(t, "run", "--config-file", cfg, "--state-dir", t.TempDir(), "--runtime", "local",
		"--sandbox-binary", sandboxBinary(t), "--workspace", ws, "--no-color", "-t", "create hello.txt containing hi")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if data, err := os.ReadFile(filepath.Join(ws, "hello.txt")); err != nil || string(data) != "hi" {
		t.Fatalf("hello.txt: %q %v", data, err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
