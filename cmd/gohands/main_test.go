package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "gohands ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := run(t, "teleport"); code != 2 || !strings.Contains(errs, `unknown command "teleport"`) {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, _, errs := run(t, "version", "--bogus"); code != 2 || !strings.Contains(errs, "bogus") {
		t.Fatalf("bad flag: %d %q", code, errs)
	}
	if code, _, _ := run(t); code != 2 {
		t.Fatalf("no arguments: %d", code)
	}
}

func TestBadConfigIsAClearError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("[core]\nmax_iterations = \"ten\"\n"), 0o600)
	code, _, errs := run(t, "events", "--config-file", cfg, "--state-dir", dir, "abc")
	if code != 1 || !strings.Contains(errs, "config.toml:2") || !strings.Contains(errs, "max_iterations") {
		t.Fatalf("got %d %q", code, errs)
	}
}

// TestImportOpenHandsThenPrint writes an OpenHands 0.50 state directory from the shared fixtures,
// imports it, and prints the conversation back.
func TestImportOpenHandsThenPrint(t *testing.T) {
	data, err := os.ReadFile("../../../shared/fixtures/openhands-0.50/trajectories/basic.json")
	if err != nil {
		t.Fatalf("fixtures missing (../shared beside the repository): %v", err)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(data, &evs); err != nil {
		t.Fatal(err)
	}
	src, state := t.TempDir(), t.TempDir()
	const id = "0123456789abcdef0123456789abcdef"
	dir := filepath.Join(src, "sessions", id, "events")
	os.MkdirAll(dir, 0o755)
	var ids []int
	for _, raw := range evs {
		var head struct{ ID int }
		json.Unmarshal(raw, &head)
		ids = append(ids, head.ID)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.json", head.ID)), raw, 0o644)
	}
	os.WriteFile(filepath.Join(src, "sessions", id, "metadata.json"),
		[]byte(`{"conversation_id":"`+id+`","title":"2048","created_at":"2025-01-27T22:44:56Z","last_updated_at":"2025-01-27T22:45:18Z"}`), 0o644)

	code, out, errs := run(t, "import-openhands", "--state-dir", state, src)
	if code != 0 || !strings.Contains(out, "imported "+id) {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "events", "--state-dir", state, id)
	if code != 0 {
		t.Fatalf("events: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(ids) {
		t.Fatalf("printed %d events, want %d:\n%s", len(lines), len(ids), out)
	}
	for i, line := range lines {
		var head struct {
			ID int `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &head); err != nil || head.ID != ids[i] {
			t.Fatalf("line %d: id %d want %d (%v)", i, head.ID, ids[i], err)
		}
	}
	// Importing again skips what is there.
	if code, out, _ := run(t, "import-openhands", "--state-dir", state, src); code != 0 || !strings.Contains(out, "skipped") {
		t.Fatalf("second import: %d %q", code, out)
	}
	if code, _, errs := run(t, "events", "--state-dir", state, "../etc"); code != 1 || !strings.Contains(errs, "../etc") {
		t.Fatalf("traversal id: %d %q", code, errs)
	}
}
