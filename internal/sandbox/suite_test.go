package sandbox

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// suiteRuntimes are the runtimes the action suite runs against, by name. Each factory returns a
// started runtime whose action server has a 1-second no-change timeout (NO_CHANGE_TIMEOUT_SECONDS=1)
// and registers its own cleanup.
var suiteRuntimes = map[string]func(t *testing.T) Runtime{}

// TestActions is the same table of actions run against every runtime: the bash behaviours of
// OpenHands' runtime tests, the editor, and file transfers.
func TestActions(t *testing.T) {
	names := make([]string, 0, len(suiteRuntimes))
	for name := range suiteRuntimes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rt := suiteRuntimes[name](t)
			ws := rt.Info().WorkspaceDir
			for _, tc := range suiteCases(ws) {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, &suiteEnv{rt: rt, ws: ws}) })
			}
		})
	}
}

type suiteEnv struct {
	rt Runtime
	ws string
}

type suiteCase struct {
	name string
	run  func(t *testing.T, e *suiteEnv)
}

func (e *suiteEnv) do(t *testing.T, a events.Action, timeout float64) *events.Event {
	t.Helper()
	ev := events.NewAction(a)
	if timeout > 0 {
		ev.Timeout = &timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	obs, err := e.rt.Run(ctx, ev)
	if err != nil {
		t.Fatalf("%s: %v", ev.Message(), err)
	}
	return obs
}

// sh runs a command and returns its output observation.
func (e *suiteEnv) sh(t *testing.T, command string, input bool, timeout float64) *events.CmdOutputObservation {
	t.Helper()
	obs := e.do(t, &events.CmdRunAction{Command: command, IsInput: input, ConfirmationState: events.ConfirmationConfirmed,
		Blocking: timeout > 0}, timeout)
	run, ok := obs.Observation.(*events.CmdOutputObservation)
	if !ok {
		t.Fatalf("%q: got %s observation: %s", command, obs.Type(), obs.Content())
	}
	return run
}

func wantExit(t *testing.T, o *events.CmdOutputObservation, code int, contains ...string) {
	t.Helper()
	if o.Metadata.ExitCode != code {
		t.Errorf("%q: exit code %d, want %d; content %q suffix %q", o.Command, o.Metadata.ExitCode, code, o.Content, o.Metadata.Suffix)
	}
	for _, s := range contains {
		if !strings.Contains(o.Content, s) {
			t.Errorf("%q: content %q lacks %q", o.Command, o.Content, s)
		}
	}
}

func editorAction(path, command string) *events.FileEditAction {
	return &events.FileEditAction{Path: path, Command: command, ImplSource: events.ImplSourceOHACI, Start: 1, End: -1}
}

func ptr[T any](v T) *T { return &v }

func suiteCases(ws string) []suiteCase {
	return []suiteCase{
		{"exit codes", func(t *testing.T, e *suiteEnv) {
			wantExit(t, e.sh(t, "echo hello", false, 0), 0, "hello")
			wantExit(t, e.sh(t, "false", false, 0), 1)
			wantExit(t, e.sh(t, "nonexistent_command_xyz", false, 0), 127, "not found")
		}},
		{"cwd tracking", func(t *testing.T, e *suiteEnv) {
			o := e.sh(t, "cd /tmp && pwd", false, 0)
			wantExit(t, o, 0, "/tmp")
			if o.Metadata.WorkingDir == nil || *o.Metadata.WorkingDir != "/tmp" {
				t.Errorf("working_dir %v, want /tmp", o.Metadata.WorkingDir)
			}
			wantExit(t, e.sh(t, "cd "+ws+" && mkdir -p sub && cd sub", false, 0), 0)
			wantExit(t, e.sh(t, "pwd", false, 0), 0, ws+"/sub")
			wantExit(t, e.sh(t, "cd "+ws, false, 0), 0)
		}},
		{"env persists", func(t *testing.T, e *suiteEnv) {
			wantExit(t, e.sh(t, "export GOHANDS_X=persisted", false, 0), 0)
			wantExit(t, e.sh(t, "echo value=$GOHANDS_X", false, 0), 0, "value=persisted")
		}},
		{"multiple commands refused", func(t *testing.T, e *suiteEnv) {
			obs := e.do(t, &events.CmdRunAction{Command: "echo a\necho b", ConfirmationState: events.ConfirmationConfirmed}, 0)
			if _, ok := obs.Observation.(*events.ErrorObservation); !ok || !strings.Contains(obs.Content(), "Cannot execute multiple commands at once") {
				t.Errorf("got %s: %q", obs.Type(), obs.Content())
			}
		}},
		{"soft timeout then C-c", func(t *testing.T, e *suiteEnv) {
			o := e.sh(t, "sleep 30", false, 0)
			if o.Metadata.ExitCode != -1 || !strings.Contains(o.Metadata.Suffix, "no new output") {
				t.Fatalf("sleep: exit %d suffix %q", o.Metadata.ExitCode, o.Metadata.Suffix)
			}
			o = e.sh(t, "C-c", true, 0)
			if o.Metadata.ExitCode != 130 {
				t.Errorf("C-c: exit %d suffix %q", o.Metadata.ExitCode, o.Metadata.Suffix)
			}
			wantExit(t, e.sh(t, "echo after", false, 0), 0, "after")
		}},
		{"hard timeout kills", func(t *testing.T, e *suiteEnv) {
			start := time.Now()
			o := e.sh(t, "sleep 30", false, 2)
			if o.Metadata.ExitCode == 0 || !strings.Contains(o.Metadata.Suffix, "timed out after 2.0 seconds") {
				t.Errorf("sleep past its timeout: exit %d suffix %q", o.Metadata.ExitCode, o.Metadata.Suffix)
			}
			wantExit(t, e.sh(t, "echo next", false, 0), 0, "next")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the timed-out command held the shell for %v", d)
			}
		}},
		{"interactive input", func(t *testing.T, e *suiteEnv) {
			o := e.sh(t, "read x; echo got $x", false, 0)
			if o.Metadata.ExitCode != -1 {
				t.Fatalf("read: exit %d", o.Metadata.ExitCode)
			}
			wantExit(t, e.sh(t, "hello", true, 0), 0, "got hello")
		}},
		{"background job does not block", func(t *testing.T, e *suiteEnv) {
			start := time.Now()
			wantExit(t, e.sh(t, "sleep 60 &", false, 0), 0)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("background job blocked for %v", d)
			}
			e.sh(t, "kill %1 2>/dev/null; true", false, 0)
		}},
		{"long output truncated", func(t *testing.T, e *suiteEnv) {
			o := e.sh(t, "seq 1 50000", false, 30)
			wantExit(t, o, 0, "50000")
			if len(o.Content) > 40000 {
				t.Errorf("content of %d bytes: not truncated", len(o.Content))
			}
		}},
		{"editor", func(t *testing.T, e *suiteEnv) {
			path := ws + "/notes.txt"
			create := editorAction(path, "create")
			create.FileText = ptr("line one\nline two\nline three\n")
			obs := e.do(t, create, 0)
			if !strings.Contains(obs.Content(), "File created successfully") {
				t.Errorf("create: %q", obs.Content())
			}
			if obs := e.do(t, create, 0); !strings.HasPrefix(obs.Content(), "ERROR:") {
				t.Errorf("create over an existing file: %q", obs.Content())
			}
			view := e.do(t, &events.FileReadAction{Path: path, End: -1, ImplSource: events.ImplSourceOHACI}, 0)
			if !strings.Contains(view.Content(), "     2\tline two") {
				t.Errorf("view: %q", view.Content())
			}
			repl := editorAction(path, "str_replace")
			repl.OldStr, repl.NewStr = ptr("line two"), ptr("line 2")
			obs = e.do(t, repl, 0)
			edit, ok := obs.Observation.(*events.FileEditObservation)
			if !ok || !strings.Contains(obs.Content(), "has been edited") || edit.Diff == nil || !strings.Contains(*edit.Diff, "+line 2") {
				t.Errorf("str_replace: %s %q", obs.Type(), obs.Content())
			}
			repl.OldStr = ptr("absent text")
			if obs := e.do(t, repl, 0); !strings.HasPrefix(obs.Content(), "ERROR:") || !strings.Contains(obs.Content(), "did not appear verbatim") {
				t.Errorf("str_replace without a match: %q", obs.Content())
			}
			repl.OldStr = ptr("line")
			if obs := e.do(t, repl, 0); !strings.Contains(obs.Content(), "Multiple occurrences") {
				t.Errorf("str_replace with several matches: %q", obs.Content())
			}
			ins := editorAction(path, "insert")
			ins.InsertLine, ins.NewStr = ptr(1), ptr("inserted")
			if obs := e.do(t, ins, 0); !strings.Contains(obs.Content(), "has been edited") {
				t.Errorf("insert: %q", obs.Content())
			}
			if obs := e.do(t, editorAction(path, "undo_edit"), 0); !strings.Contains(obs.Content(), "undone successfully") {
				t.Errorf("undo_edit: %q", obs.Content())
			}
			wantExit(t, e.sh(t, "cat "+path, false, 0), 0, "line 2")
			if obs := e.do(t, editorAction("relative.txt", "view"), 0); !strings.Contains(obs.Content(), "absolute path") {
				t.Errorf("relative path: %q", obs.Content())
			}
		}},
		{"read and write", func(t *testing.T, e *suiteEnv) {
			e.do(t, &events.FileWriteAction{Path: ws + "/w.txt", Content: "written", End: -1}, 0)
			obs := e.do(t, &events.FileReadAction{Path: ws + "/w.txt", End: -1, ImplSource: events.ImplSourceDefault}, 0)
			if !strings.Contains(obs.Content(), "written") {
				t.Errorf("read back: %q", obs.Content())
			}
			obs = e.do(t, &events.FileReadAction{Path: ws + "/missing.txt", End: -1, ImplSource: events.ImplSourceDefault}, 0)
			if _, ok := obs.Observation.(*events.ErrorObservation); !ok {
				t.Errorf("missing file: %s %q", obs.Type(), obs.Content())
			}
		}},
		{"upload, list and download", func(t *testing.T, e *suiteEnv) {
			ctx := context.Background()
			host := t.TempDir()
			os.WriteFile(filepath.Join(host, "one.txt"), []byte("first"), 0o644)
			os.MkdirAll(filepath.Join(host, "tree", "deep"), 0o755)
			os.WriteFile(filepath.Join(host, "tree", "deep", "two.txt"), []byte("second"), 0o644)
			if err := e.rt.CopyTo(ctx, filepath.Join(host, "one.txt"), ws+"/up", false); err != nil {
				t.Fatal(err)
			}
			if err := e.rt.CopyTo(ctx, filepath.Join(host, "tree"), ws+"/up", true); err != nil {
				t.Fatal(err)
			}
			if err := e.rt.CopyTo(ctx, filepath.Join(host, "absent"), ws, false); err == nil {
				t.Error("copying a missing host file must fail")
			}
			names, err := e.rt.ListFiles(ctx, "up")
			if err != nil || !slices.Equal(names, []string{"tree/", "one.txt"}) {
				t.Errorf("list: %v %v", names, err)
			}
			wantExit(t, e.sh(t, "cat "+ws+"/up/tree/deep/two.txt", false, 0), 0, "second")
			var buf bytes.Buffer
			if err := e.rt.CopyFrom(ctx, ws+"/up", &buf); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range zr.File {
				got = append(got, f.Name)
			}
			sort.Strings(got)
			if !slices.Equal(got, []string{"one.txt", "tree/deep/two.txt"}) {
				t.Errorf("zip holds %v", got)
			}
			if err := e.rt.CopyFrom(ctx, ws+"/no/such/dir", &buf); err == nil {
				t.Error("downloading a missing path must fail")
			}
		}},
		{"unsupported actions", func(t *testing.T, e *suiteEnv) {
			obs := e.do(t, &events.IPythonRunCellAction{Code: "print(1)", ConfirmationState: events.ConfirmationConfirmed}, 0)
			if _, ok := obs.Observation.(*events.ErrorObservation); !ok {
				t.Errorf("ipython: %s", obs.Type())
			}
			obs = e.do(t, &events.BrowseURLAction{URL: "http://127.0.0.1:1"}, 0)
			if !strings.Contains(obs.Content(), "Browser functionality is not supported or disabled") {
				t.Errorf("browse: %q", obs.Content())
			}
			obs = e.do(t, &events.AgentThinkAction{Thought: "hm"}, 0)
			if obs.Type() != "think" {
				t.Errorf("think: %s", obs.Type())
			}
		}},
	}
}
