package sandbox

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
)

func init() { suiteRuntimes["local"] = newTestLocal }

func newTestLocal(t *testing.T) Runtime {
	t.Helper()
	run, err := os.MkdirTemp("", "gh")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewLocal(LocalOptions{ConversationID: "suite", Binary: testBinary(t), RunDir: run,
		WorkspaceDir: filepath.Join(t.TempDir(), "workspace"), Isolation: IsolationNone,
		Env: map[string]string{"NO_CHANGE_TIMEOUT_SECONDS": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Delete(context.Background()) })
	return rt
}

func TestLocalLifecycle(t *testing.T) {
	ctx := context.Background()
	rt := newTestLocal(t).(*Local)
	ws := rt.Info().WorkspaceDir
	run := func(cmd string) *events.CmdOutputObservation {
		obs, err := rt.Run(ctx, events.NewAction(&events.CmdRunAction{Command: cmd, ConfirmationState: "confirmed"}))
		if err != nil {
			t.Fatal(err)
		}
		return obs.Observation.(*events.CmdOutputObservation)
	}
	run("echo kept > kept.txt")
	if err := rt.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Run(ctx, events.NewAction(&events.CmdRunAction{Command: "true"})); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("run while paused: %v", err)
	}
	if err := rt.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if o := run("cat kept.txt"); !strings.Contains(o.Content, "kept") {
		t.Fatalf("file lost across pause/resume: %q", o.Content)
	}
	if err := rt.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Fatalf("workspace left after delete: %v", err)
	}
}

// The local action server confines file operations to the workspace and checks the API key.
func TestLocalRefusals(t *testing.T) {
	ctx := context.Background()
	rt := newTestLocal(t).(*Local)
	obs, err := rt.Run(ctx, events.NewAction(&events.FileReadAction{Path: "/etc/hostname", End: -1, ImplSource: "default"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := obs.Observation.(*events.ErrorObservation); !ok {
		t.Errorf("read outside the workspace: %s %q", obs.Type(), obs.Content())
	}
	var se *StatusError
	if err := rt.CopyFrom(ctx, "/etc", new(strings.Builder)); !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Errorf("download outside the workspace: %v", err)
	}
	host := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(host, []byte("x"), 0o644)
	if err := rt.CopyTo(ctx, host, "/etc", false); !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Errorf("upload outside the workspace: %v", err)
	}
	wrongKey := NewUnixClient(rt.socketPath(), "wrong")
	if _, err := wrongKey.ListFiles(ctx, ""); !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Errorf("wrong API key: %v", err)
	}
	if err := wrongKey.Alive(ctx); err != nil {
		t.Errorf("alive needs no key: %v", err)
	}
}

// With bubblewrap the agent's commands can write to the workspace and a private /tmp only.
func TestLocalBubblewrap(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Fatal("bubblewrap is not installed: apt-get install bubblewrap (the CI script installs it)")
	}
	run, err := os.MkdirTemp("", "gh")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewLocal(LocalOptions{ConversationID: "bwrap", Binary: testBinary(t), RunDir: run,
		WorkspaceDir: filepath.Join(t.TempDir(), "ws"), Isolation: IsolationBwrap})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rt.Delete(ctx)
	marker := filepath.Join(os.TempDir(), "gohands-bwrap-escape")
	os.Remove(marker)
	for cmd, want := range map[string]int{
		"echo ok > inside.txt && cat inside.txt": 0,
		"touch /etc/gohands-bwrap-escape":        1,
		"touch " + marker:                        0, // lands in the sandbox's private /tmp
	} {
		obs, err := rt.Run(ctx, events.NewAction(&events.CmdRunAction{Command: cmd, ConfirmationState: "confirmed"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := obs.Observation.(*events.CmdOutputObservation).Metadata.ExitCode; got != want {
			t.Errorf("%q: exit %d, want %d (%q)", cmd, got, want, obs.Content())
		}
	}
	if _, err := os.Stat(marker); err == nil {
		os.Remove(marker)
		t.Error("a file written to /tmp inside the sandbox appeared on the host")
	}
	if _, err := os.Stat("/etc/gohands-bwrap-escape"); err == nil {
		os.Remove("/etc/gohands-bwrap-escape")
		t.Error("the sandbox wrote to the host's /etc")
	}
}
