package actionserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/events"
)

// The tests start real shells on real pseudo-terminals. Subtests run in parallel under one parent
// that checks for leaked goroutines once they are all done.

type bashTestShell struct {
	name  string
	shell string
}

var bashTestShells = []bashTestShell{{"bash", ""}, {"busybox", "busybox sh"}}

func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("busybox is not installed: the busybox sh cases need it (Debian/Ubuntu: apt-get install busybox-static)")
	}
}

func newTestBash(t *testing.T, shell string, noChange time.Duration) *BashSession {
	t.Helper()
	if shell == "" {
		if _, err := exec.LookPath("bash"); err != nil {
			t.Fatal("bash is not installed; these tests need it")
		}
	}
	dir := filepath.Join(t.TempDir(), "workspace")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := NewBashSession(ctx, BashOptions{WorkDir: dir, Shell: shell, NoChangeTimeout: noChange})
	if err != nil {
		t.Fatalf("NewBashSession: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

type bashRun struct {
	cmd      string
	input    bool
	blocking bool
	timeout  time.Duration
}

func run(t *testing.T, b *BashSession, r bashRun) events.Observation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	obs := b.Run(ctx, &events.CmdRunAction{Command: r.cmd, IsInput: r.input, Blocking: r.blocking}, r.timeout)
	if obs == nil {
		t.Fatalf("Run(%q) returned nil", r.cmd)
	}
	return obs
}

func runCmd(t *testing.T, b *BashSession, r bashRun) *events.CmdOutputObservation {
	t.Helper()
	obs := run(t, b, r)
	co, ok := obs.(*events.CmdOutputObservation)
	if !ok {
		t.Fatalf("Run(%q) = %T %+v, want a run observation", r.cmd, obs, obs)
	}
	return co
}

// ok runs a command that must complete with exit code 0.
func ok(t *testing.T, b *BashSession, cmd string) string {
	t.Helper()
	o := runCmd(t, b, bashRun{cmd: cmd, timeout: 20 * time.Second})
	if o.Metadata.ExitCode != 0 {
		t.Fatalf("%q: exit code %d, content %q, suffix %q", cmd, o.Metadata.ExitCode, o.Content, o.Metadata.Suffix)
	}
	if want := "\n[The command completed with exit code 0.]"; o.Metadata.Suffix != want {
		t.Fatalf("%q: suffix %q, want %q", cmd, o.Metadata.Suffix, want)
	}
	return o.Content
}

func contains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to contain %q", what, got, want)
	}
}

func TestBashSession(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	for _, sh := range bashTestShells {
		isBash := sh.shell == ""
		t.Run(sh.name, func(t *testing.T) {
			if !isBash {
				requireBusybox(t)
			}
			for _, tc := range bashSessionCases {
				if tc.bashOnly && !isBash {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, sh.shell)
				})
			}
		})
	}
}

type bashSessionCase struct {
	name string
	// bashOnly: the case exercises bash syntax, or session logic that does not depend on the
	// shell and is slow enough to run once.
	bashOnly bool
	run      func(t *testing.T, shell string)
}

// bashSessionCases port what OpenHands' tests/runtime/test_bash.py asserts (the numbers are the
// items of the runtime spec, section 8) plus gohands' own guarantees.
var bashSessionCases = []bashSessionCase{
	{name: "basic commands (8.17, 8.23)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		if got := ok(t, b, "echo 'hello world'"); got != "hello world" {
			t.Errorf("content %q", got)
		}
		o := runCmd(t, b, bashRun{cmd: "nonexistent_command"})
		if o.Metadata.ExitCode != 127 {
			t.Errorf("exit code %d, want 127", o.Metadata.ExitCode)
		}
		if shell == "" {
			contains(t, "content", o.Content, "nonexistent_command: command not found")
		} else {
			contains(t, "content", o.Content, "nonexistent_command: not found")
		}
		got := ok(t, b, "echo 'hello   world    with\nspecial  chars'")
		contains(t, "content", got, "hello   world    with\nspecial  chars")
		got = ok(t, b, `echo "first" && echo "second" && echo "third"`)
		if got != "first\nsecond\nthird" {
			t.Errorf("content %q", got)
		}
	}},
	{name: "multi-line commands (8.6-8.8, 8.10)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		contains(t, "continued line", ok(t, b, "echo \\\n -e \"foo\""), "foo")
		got := ok(t, b, "echo -e \"hello\nworld\"")
		contains(t, "newline in quotes", got, "hello\nworld")
		if strings.Contains(got, ">") {
			t.Errorf("continuation prompt in %q", got)
		}
		contains(t, "blank lines", ok(t, b, `echo -e "a\\n\\n\\nz"`), "\n\n\n")
	}},
	{name: "complex one-line loop (8.9)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		cmd := `count=0; tries=0; while [ $count -lt 3 ]; do result=$(echo "Heads"); tries=$((tries+1)); echo "Flip $tries: $result"; if [ "$result" = "Heads" ]; then count=$((count+1)); else count=0; fi; done; echo "Got 3 heads in a row after $tries flips!";`
		contains(t, "content", ok(t, b, cmd), "Got 3 heads in a row after 3 flips!")
	}},
	{name: "multi-line loops (8.11)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		months, days := "{01..04}", "{01..05}"
		if shell != "" { // no brace expansion in ash
			months, days = "01 02 03 04", "01 02 03 04 05"
		}
		initCmd := "mkdir -p _modules && \\\nfor month in " + months + "; do\n    for day in " + days + "; do\n        touch \"_modules/2024-${month}-${day}-sample.md\"\n    done\ndone && echo \"created files\"\n"
		contains(t, "content", ok(t, b, initCmd), "created files")
		follow := "for file in _modules/*.md; do\n    new_date=$(echo $file | sed -E 's/2024-(01|02|03|04)-/2024-/;s/2024-01/2024-08/;s/2024-02/2024-09/;s/2024-03/2024-10/;s/2024-04/2024-11/')\n    mv \"$file\" \"$new_date\"\ndone && echo \"success\"\n"
		contains(t, "content", ok(t, b, follow), "success")
		if got := ok(t, b, "ls _modules"); !strings.Contains(got, "2024-08-sample.md") || strings.Contains(got, "2024-01-01") {
			t.Errorf("files: %q", got)
		}
	}},
	{name: "multiple commands refused, each alone works (8.12)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		cmds := []string{
			"ls -l",
			"echo -e \"hello\nworld\"",
			"echo -e \"hello it's me\"",
			"echo \\\n    -e 'hello' \\\n    world",
			"echo -e 'hello\\nworld\\nare\\nyou\\nthere?'",
			"echo -e 'hello\nworld\nare\nyou\n\nthere?'",
			"echo -e 'hello\nworld \"'",
		}
		obs := run(t, b, bashRun{cmd: strings.Join(cmds, "\n")})
		eo, isErr := obs.(*events.ErrorObservation)
		if !isErr {
			t.Fatalf("got %T, want an error observation", obs)
		}
		contains(t, "error", eo.Content, "Cannot execute multiple commands at once")
		contains(t, "error", eo.Content, "(7) echo -e 'hello\nworld \"'")
		var res []string
		for _, c := range cmds {
			res = append(res, ok(t, b, c))
		}
		contains(t, "ls -l", res[0], "total 0")
		contains(t, "echo", res[1], "hello\nworld")
		contains(t, "echo", res[2], "hello it's me")
		contains(t, "echo", res[3], "hello world")
		contains(t, "echo", res[4], "hello\nworld\nare\nyou\nthere?")
		contains(t, "echo", res[5], "hello\nworld\nare\nyou\n\nthere?")
		contains(t, "echo", res[6], "hello\nworld \"")
	}},
	{name: "directories (8.14-8.16, 8.22)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ws := b.Cwd()
		home, _ := os.UserHomeDir()
		if got := ok(t, b, "cd ~ && pwd"); got != home {
			t.Errorf("cd ~ && pwd = %q, want %q", got, home)
		}
		if got := ok(t, b, "cd '"+ws+"' && pwd && ls -l"); got != ws+"\ntotal 0" {
			t.Errorf("pwd && ls -l = %q", got)
		}
		ok(t, b, "mkdir -p test")
		ok(t, b, "cd test")
		if got := ok(t, b, "pwd"); got != filepath.Join(ws, "test") {
			t.Errorf("pwd = %q", got)
		}
		if b.Cwd() != filepath.Join(ws, "test") {
			t.Errorf("Cwd() = %q", b.Cwd())
		}
		ok(t, b, "mkdir -p random_dir")
		contains(t, "pwd", ok(t, b, "cd random_dir && pwd"), "random_dir")
		o := runCmd(t, b, bashRun{cmd: "cd /tmp && pwd"})
		if o.Content != "/tmp" || o.Metadata.WorkingDir == nil || *o.Metadata.WorkingDir != "/tmp" || b.Cwd() != "/tmp" {
			t.Errorf("cd /tmp: content %q, working_dir %v, Cwd %q", o.Content, o.Metadata.WorkingDir, b.Cwd())
		}
	}},
	{name: "metadata", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: "true"})
		md := o.Metadata
		if md.ExitCode != 0 || md.PID != -1 || md.Prefix != "" {
			t.Errorf("metadata %+v", md)
		}
		for name, p := range map[string]*string{"username": md.Username, "hostname": md.Hostname, "working_dir": md.WorkingDir} {
			if p == nil || *p == "" {
				t.Errorf("%s is empty", name)
			}
		}
		if md.PyInterpreterPath == nil {
			t.Errorf("py_interpreter_path is null")
		}
		if o.Message() != "Command `true` executed with exit code 0." {
			t.Errorf("message %q", o.Message())
		}
		o = runCmd(t, b, bashRun{cmd: "sleep 100 &"})
		if o.Metadata.ExitCode != 0 || o.Metadata.PID <= 0 {
			t.Errorf("background job: %+v", o.Metadata)
		}
		if o = runCmd(t, b, bashRun{cmd: "false"}); o.Metadata.ExitCode != 1 || o.Metadata.Suffix != "\n[The command completed with exit code 1.]" {
			t.Errorf("false: %+v", o.Metadata)
		}
	}},
	{name: "environment persists", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ok(t, b, "export A=1")
		if got := ok(t, b, "echo $A"); got != "1" {
			t.Errorf("echo $A = %q", got)
		}
		ok(t, b, "B=two")
		if got := ok(t, b, "echo $B"); got != "two" {
			t.Errorf("echo $B = %q", got)
		}
		// Printing the prompt's text (it is exported, as in OpenHands) does not confuse the
		// session: the exit code there is "$?", not a number.
		contains(t, "env", ok(t, b, "env"), "###PS1JSON###")
		contains(t, "echo $PS1", ok(t, b, `echo "$PS1"`), "###PS1JSON###")
		if got := ok(t, b, "echo after"); got != "after" {
			t.Errorf("after printing PS1: %q", got)
		}
	}},
	{name: "interactive read (8.24)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: `read -p "Enter name: " name && echo "Hello $name"`})
		contains(t, "content", o.Content, "Enter name:")
		if !strings.HasPrefix(o.Metadata.Suffix, "\n[The command has no new output after 1 seconds.") || o.Metadata.ExitCode != -1 {
			t.Errorf("suffix %q exit %d", o.Metadata.Suffix, o.Metadata.ExitCode)
		}
		o = runCmd(t, b, bashRun{cmd: "John", input: true})
		contains(t, "content", o.Content, "Hello John")
		if o.Metadata.Suffix != "\n[The command completed with exit code 0.]" {
			t.Errorf("suffix %q", o.Metadata.Suffix)
		}
		got := ok(t, b, "cat << EOF\nline 1\nline 2\nEOF")
		contains(t, "heredoc", got, "line 1\nline 2")

		o = runCmd(t, b, bashRun{cmd: "read x; echo got $x"})
		if o.Metadata.ExitCode != -1 {
			t.Fatalf("read: %+v", o.Metadata)
		}
		if o = runCmd(t, b, bashRun{cmd: "hi there", input: true}); o.Content != "got hi there" || o.Metadata.ExitCode != 0 {
			t.Errorf("input: %q %+v", o.Content, o.Metadata)
		}
	}},
	{name: "input to a program (8.33, 8.34)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		prog := `sh -c 'printf "Enter your name: "; read name; printf "Enter your age: "; read age; echo "Hello $name, you are $age years old"'`
		o := runCmd(t, b, bashRun{cmd: prog})
		if !strings.Contains(o.Content, "Enter your name:") || o.Metadata.ExitCode != -1 {
			t.Fatalf("start: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "Alice"})
		contains(t, "suffix", o.Metadata.Suffix, `Your command "Alice" is NOT executed. The previous command is still running`)
		if strings.Contains(o.Content, "Enter your age:") || o.Metadata.ExitCode != -1 {
			t.Errorf("not executed: %q %+v", o.Content, o.Metadata)
		}
		if o.Metadata.Prefix != "[Below is the output of the previous command.]\n" {
			t.Errorf("prefix %q", o.Metadata.Prefix)
		}
		o = runCmd(t, b, bashRun{cmd: "Alice", input: true})
		if !strings.Contains(o.Content, "Enter your age:") || o.Metadata.ExitCode != -1 {
			t.Errorf("after name: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "25", input: true})
		contains(t, "content", o.Content, "Hello Alice, you are 25 years old")
		if o.Metadata.ExitCode != 0 || o.Metadata.Suffix != "\n[The command completed with exit code 0.]" {
			t.Errorf("done: %+v", o.Metadata)
		}
	}},
	{name: "long output (8.25)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: `for i in $(seq 1 5000); do echo "Line $i"; done`, timeout: 10 * time.Second})
		if o.Metadata.ExitCode != 0 || !strings.Contains(o.Content, "Line 1\n") || !strings.HasSuffix(o.Content, "Line 5000") {
			t.Errorf("exit %d, content head %q tail %q", o.Metadata.ExitCode, o.Content[:20], o.Content[len(o.Content)-20:])
		}
	}},
	{name: "output beyond the history (8.26)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: `for i in $(seq 1 50000); do echo "Line $i"; done`, timeout: 30 * time.Second})
		if o.Metadata.ExitCode != 0 {
			t.Fatalf("exit %d suffix %q", o.Metadata.ExitCode, o.Metadata.Suffix)
		}
		contains(t, "prefix", o.Metadata.Prefix, "Previous command outputs are truncated")
		contains(t, "content", o.Content, "Line 40000\n")
		contains(t, "content", o.Content, "Line 50000")
		contains(t, "content", o.Content, "\n[... Observation truncated due to length ...]\n")
		if n := len([]rune(o.Content)); n > 30000+len("\n[... Observation truncated due to length ...]\n") {
			t.Errorf("content has %d characters", n)
		}
		// The session goes on normally.
		if got := ok(t, b, "echo next"); got != "next" {
			t.Errorf("next: %q", got)
		}
	}},
	{name: "truncated content", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: "seq 1 9000", timeout: 10 * time.Second})
		if o.Metadata.Prefix != "" || !strings.HasPrefix(o.Content, "1\n2\n3\n") || !strings.HasSuffix(o.Content, "\n9000") {
			t.Errorf("prefix %q, content %q…%q", o.Metadata.Prefix, o.Content[:10], o.Content[len(o.Content)-10:])
		}
		contains(t, "content", o.Content, "\n[... Observation truncated due to length ...]\n")
	}},
	{name: "soft timeout then C-c", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		start := time.Now()
		o := runCmd(t, b, bashRun{cmd: "sleep 30"})
		if o.Metadata.ExitCode != -1 || o.Metadata.Suffix != bashNoChangeSuffix(time.Second) {
			t.Fatalf("soft timeout: %+v", o.Metadata)
		}
		if d := time.Since(start); d < time.Second || d > 5*time.Second {
			t.Errorf("soft timeout after %v", d)
		}
		o = runCmd(t, b, bashRun{cmd: "C-c", input: true})
		if o.Metadata.ExitCode != 130 || o.Metadata.Suffix != "\n[The command completed with exit code 130. CTRL+C was sent.]" {
			t.Errorf("C-c: %+v", o.Metadata)
		}
		if got := ok(t, b, "echo ready"); got != "ready" {
			t.Errorf("after C-c: %q", got)
		}
	}},
	{name: "blocking disables the soft timeout", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, 500*time.Millisecond)
		o := runCmd(t, b, bashRun{cmd: "sleep 1.5; echo woke", blocking: true, timeout: 10 * time.Second})
		if o.Metadata.ExitCode != 0 || o.Content != "woke" {
			t.Errorf("%q %+v", o.Content, o.Metadata)
		}
	}},
	{name: "background job does not block (8.5)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		start := time.Now()
		o := runCmd(t, b, bashRun{cmd: "sleep 100 &"})
		if o.Metadata.ExitCode != 0 || time.Since(start) > 900*time.Millisecond {
			t.Errorf("exit %d after %v", o.Metadata.ExitCode, time.Since(start))
		}
		pid := o.Metadata.PID
		if !bashTestAlive(pid) {
			t.Fatalf("background job %d is not running", pid)
		}
		ok(t, b, "echo still here")
		_ = b.Close()
		if !bashTestGone(pid) {
			t.Errorf("background job %d survived Close", pid)
		}
		if obs := run(t, b, bashRun{cmd: "echo closed"}); obs.ObservationType() != events.ObservationError {
			t.Errorf("Run after Close: %#v", obs)
		}
	}},
	// OpenHands sleeps 1 s between lines; 2 s here makes the C-c land in sleep, not in the $( )
	// between two sleeps (a shell continues the loop when a child that got SIGINT exits normally).
	{name: "stress: input, hard timeout, refused command, C-c (8.29)", bashOnly: true, run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		for i := 0; i < 2; i++ {
			ok(t, b, `ps aux | awk '{printf "%8.1f KB  %s\n", $6, $0}' | sort -nr | head -3 | awk '{print $1}'`)
			o := runCmd(t, b, bashRun{cmd: `read -p "Do you want to continue? [Y/n] " answer; if [ "$answer" = "Y" ]; then echo "Proceeding with operation..."; echo "Operation completed successfully!"; else echo "Operation cancelled."; fi`})
			if !strings.Contains(o.Content, "Do you want to continue?") || o.Metadata.ExitCode != -1 {
				t.Fatalf("prompt: %q %+v", o.Content, o.Metadata)
			}
			o = runCmd(t, b, bashRun{cmd: "Y", input: true})
			contains(t, "content", o.Content, "Proceeding with operation...")
			contains(t, "content", o.Content, "Operation completed successfully!")
			if o.Metadata.ExitCode != 0 || o.Metadata.Suffix != "\n[The command completed with exit code 0.]" {
				t.Errorf("answer: %+v", o.Metadata)
			}
			o = runCmd(t, b, bashRun{cmd: fmt.Sprintf(`export i=%d; for j in $(seq 1 100); do echo "Line $j - Iteration $i - $(printf '%%1000s' | tr " " "*")"; sleep 2; done`, i), timeout: 1500 * time.Millisecond})
			if o.Metadata.ExitCode != -1 || !strings.Contains(o.Content, fmt.Sprintf("Line 1 - Iteration %d", i)) {
				t.Errorf("hard timeout: %.60q %+v", o.Content, o.Metadata)
			}
			o = runCmd(t, b, bashRun{cmd: "ls"})
			if o.Metadata.ExitCode != -1 || !strings.Contains(o.Metadata.Suffix, "The previous command is still running") {
				t.Errorf("ls while running: %+v", o.Metadata)
			}
			if o = runCmd(t, b, bashRun{cmd: "C-c", input: true}); o.Metadata.ExitCode != 130 {
				t.Errorf("C-c: %+v", o.Metadata)
			}
			if o = runCmd(t, b, bashRun{cmd: "ls"}); o.Metadata.ExitCode != 0 {
				t.Errorf("ls: %+v", o.Metadata)
			}
		}
	}},
	{name: "continuation (8.30)", bashOnly: true, run: func(t *testing.T, shell string) {
		// OpenHands: a 3 s loop watched with a 2.5 s hard timeout; here 1.5 s and 1.25 s.
		b := newTestBash(t, shell, 10*time.Second)
		const hard = 1250 * time.Millisecond
		o := runCmd(t, b, bashRun{cmd: "for i in 1 2 3 4 5; do echo $i; sleep 1.5; done", timeout: hard})
		if o.Content != "1" || o.Metadata.Prefix != "" || !strings.HasPrefix(o.Metadata.Suffix, "\n[The command timed out after 1.25 seconds.") {
			t.Fatalf("first: %q %+v", o.Content, o.Metadata)
		}
		for _, want := range []string{"2", "3", "4", "5"} {
			o = runCmd(t, b, bashRun{cmd: "", timeout: hard})
			if o.Content != want || o.Metadata.Prefix != bashContinuePrefix || o.Metadata.Suffix != bashHardTimeoutSuffix(hard) || o.Metadata.ExitCode != -1 {
				t.Fatalf("want %s: %q %+v", want, o.Content, o.Metadata)
			}
		}
		o = runCmd(t, b, bashRun{cmd: ""})
		if o.Metadata.Suffix != "\n[The command completed with exit code 0.]" || o.Metadata.ExitCode != 0 || o.Metadata.Prefix != "" {
			t.Errorf("last: %q %+v", o.Content, o.Metadata)
		}
	}},
	{name: "command refused while one runs (8.31)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, 10*time.Second)
		const hard = 1250 * time.Millisecond
		o := runCmd(t, b, bashRun{cmd: "for i in 1 2 3; do echo $i; sleep 1.5; done", timeout: hard})
		if !strings.Contains(o.Content, "1") || o.Metadata.ExitCode != -1 || o.Metadata.Prefix != "" {
			t.Fatalf("first: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "", timeout: hard})
		if !strings.Contains(o.Content, "2") || o.Metadata.ExitCode != -1 || o.Metadata.Prefix != "[Below is the output of the previous command.]\n" {
			t.Fatalf("second: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "sleep 15", timeout: hard})
		if strings.Contains(o.Content, "3") || o.Metadata.ExitCode != -1 || o.Metadata.Prefix != bashContinuePrefix ||
			o.Metadata.Suffix != bashNotExecutedSuffix("sleep 15") || o.Command != "sleep 15" {
			t.Fatalf("refused: %q %+v", o.Content, o.Metadata)
		}
		contains(t, "suffix", o.Metadata.Suffix, "The previous command is still running")
		o = runCmd(t, b, bashRun{cmd: ""})
		if !strings.Contains(o.Content, "3") || o.Metadata.Suffix != "\n[The command completed with exit code 0.]" {
			t.Errorf("last: %q %+v", o.Content, o.Metadata)
		}
	}},
	{name: "nothing running (8.32)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: ""})
		if o.Content != "ERROR: No previous running command to retrieve logs from." || o.Command != "" || o.Metadata.ExitCode != -1 {
			t.Errorf("empty: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "hello", input: true})
		if o.Content != "ERROR: No previous running command to interact with." || o.Command != "" {
			t.Errorf("input: %q %+v", o.Content, o.Metadata)
		}
		ok(t, b, "true")
		if o = runCmd(t, b, bashRun{cmd: "  "}); o.Content != bashNoRunningToRetrieve {
			t.Errorf("empty after a command: %q", o.Content)
		}
	}},
	{name: "C-d ends input", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		o := runCmd(t, b, bashRun{cmd: "cat"})
		if o.Metadata.ExitCode != -1 {
			t.Fatalf("cat: %+v", o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "some text", input: true})
		if o.Content != "some text" || o.Metadata.ExitCode != -1 {
			t.Errorf("typed: %q %+v", o.Content, o.Metadata)
		}
		o = runCmd(t, b, bashRun{cmd: "C-d", input: true})
		if o.Metadata.ExitCode != 0 || o.Metadata.Suffix != "\n[The command completed with exit code 0. CTRL+D was sent.]" {
			t.Errorf("C-d: %q %+v", o.Content, o.Metadata)
		}
		// The terminal is back to normal for long commands.
		long := strings.Repeat("x", 6000)
		if got := ok(t, b, "echo "+long+" | wc -c"); strings.TrimSpace(got) != "6001" {
			t.Errorf("long command: %q", got)
		}
	}},
	{name: "long command lines", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		long := strings.Repeat("x", 5000)
		if got := ok(t, b, "cat <<'EOF' | wc -c\n"+long+"\nEOF"); strings.TrimSpace(got) != "5001" {
			t.Errorf("heredoc: %q", got)
		}
		if o := runCmd(t, b, bashRun{cmd: "echo " + long + " >/dev/null; false"}); o.Metadata.ExitCode != 1 {
			t.Errorf("exit code through the file: %+v", o.Metadata)
		}
		if got := ok(t, b, "export L="+long+" && echo ${#L}"); got != "5000" {
			t.Errorf("variable: %q", got)
		}
		if got := ok(t, b, "echo ${#L}"); got != "5000" {
			t.Errorf("the command ran in the session: %q", got)
		}
	}},
	{name: "terminal rendering", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		if got := ok(t, b, `printf '\033[31mred\033[0m plain\n'`); got != "red plain" {
			t.Errorf("colours: %q", got)
		}
		if got := ok(t, b, `printf 'a 10%%\rb 20%%\rc 30%%\n'`); got != "c 30%" {
			t.Errorf("carriage returns: %q", got)
		}
		if got := ok(t, b, `printf 'x\r\n'`); got != "x" {
			t.Errorf("CRLF: %q", got)
		}
		if got := ok(t, b, "echo 'héllo wörld ✓'"); got != "héllo wörld ✓" {
			t.Errorf("utf-8: %q", got)
		}
		if got := ok(t, b, "printf 'no newline'"); got != "no newline" {
			t.Errorf("no newline: %q", got)
		}
		if got := ok(t, b, "echo; echo; echo x; echo"); got != "x" {
			t.Errorf("blank lines: %q", got)
		}
	}},
	{name: "find -exec with backslash (8.28)", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ok(t, b, "mkdir -p d && echo implemented_function > d/a.txt && echo other > d/b.txt")
		o := runCmd(t, b, bashRun{cmd: `find d -type f -exec grep -l "implemented_function" {} \;`})
		if o.Content != "d/a.txt" || o.Metadata.ExitCode != 0 || o.Command != `find d -type f -exec grep -l "implemented_function" {} \;` {
			t.Errorf("%q %q %+v", o.Content, o.Command, o.Metadata)
		}
	}},
	{name: "shell exit starts a new shell", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ok(t, b, "cd /tmp")
		o := runCmd(t, b, bashRun{cmd: "exit 3"})
		if o.Metadata.ExitCode != -1 || !strings.Contains(o.Metadata.Suffix, "The shell exited with code 3") {
			t.Errorf("exit: %q %+v", o.Content, o.Metadata)
		}
		if got := ok(t, b, "pwd"); got != "/tmp" {
			t.Errorf("new shell in %q", got)
		}
	}},
	{name: "request cancelled", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		obs := b.Run(ctx, &events.CmdRunAction{Command: "sleep 30", Blocking: true}, 0)
		o := obs.(*events.CmdOutputObservation)
		if o.Metadata.ExitCode != -1 || time.Since(start) > 2*time.Second || o.Metadata.Suffix != bashCancelledSuffix() {
			t.Errorf("after %v: %+v", time.Since(start), o.Metadata)
		}
		if o := runCmd(t, b, bashRun{cmd: "C-c", input: true}); o.Metadata.ExitCode != 130 {
			t.Errorf("C-c: %+v", o.Metadata)
		}
	}},
	{name: "Close while a command runs", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		done := make(chan events.Observation, 1)
		go func() {
			done <- b.Run(context.Background(), &events.CmdRunAction{Command: "sleep 60", Blocking: true}, 0)
		}()
		time.Sleep(300 * time.Millisecond)
		_ = b.Close()
		select {
		case obs := <-done:
			if o, ok := obs.(*events.CmdOutputObservation); !ok || o.Metadata.ExitCode != -1 || o.Metadata.Suffix != bashSessionClosedSuffix {
				t.Errorf("Run after Close: %#v", obs)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after Close")
		}
		_ = b.Close() // idempotent
	}},
	{name: "Close does not wait for a process that left the session", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		if err := b.proc.ptm.SetWriteDeadline(time.Time{}); err != nil {
			t.Errorf("the pty is not in the poller: %v", err)
		}
		pidFile := filepath.Join(t.TempDir(), "pid")
		ok(t, b, "setsid sh -c 'echo $$ > "+pidFile+"; exec sleep 60' &")
		var pid int
		for deadline := time.Now().Add(2 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			data, _ := os.ReadFile(pidFile)
			fmt.Sscan(string(data), &pid)
		}
		if pid <= 0 {
			t.Fatal("no pid from the escaped process")
		}
		defer syscall.Kill(pid, syscall.SIGKILL)
		start := time.Now()
		_ = b.Close()
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Close took %v", d)
		}
	}},
	{name: "input to a program that does not read", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		b.proc.writeStall = 300 * time.Millisecond
		if o := runCmd(t, b, bashRun{cmd: "sleep 30"}); o.Metadata.ExitCode != -1 {
			t.Fatalf("sleep: %+v", o.Metadata)
		}
		start := time.Now()
		for i := 0; i < 3; i++ { // more than the terminal's 4 KiB input queue
			run(t, b, bashRun{cmd: strings.Repeat("y", 2000), input: true})
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("input took %v", d)
		}
		if o := runCmd(t, b, bashRun{cmd: "C-c", input: true}); o.Metadata.ExitCode != 130 {
			t.Errorf("C-c: %q %+v", o.Content, o.Metadata)
		}
	}},
	{name: "kill on hard timeout", run: func(t *testing.T, shell string) {
		dir := t.TempDir()
		ctx := context.Background()
		b, err := NewBashSession(ctx, BashOptions{WorkDir: dir, Shell: shell, NoChangeTimeout: 10 * time.Second, KillOnTimeout: true})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		o := runCmd(t, b, bashRun{cmd: "echo started; sleep 30", timeout: time.Second})
		if !strings.HasPrefix(o.Content, "started") || o.Metadata.Suffix != bashKilledSuffix(time.Second, 137) || o.Metadata.ExitCode != 137 {
			t.Errorf("external command: %q %+v", o.Content, o.Metadata)
		}
		if got := ok(t, b, "echo next"); got != "next" {
			t.Errorf("next: %q", got)
		}
		o = runCmd(t, b, bashRun{cmd: "while true; do :; done", timeout: time.Second})
		if o.Metadata.ExitCode != 130 || !strings.Contains(o.Metadata.Suffix, "was killed") {
			t.Errorf("builtin loop: %q %+v", o.Content, o.Metadata)
		}
		if got := ok(t, b, "echo next"); got != "next" {
			t.Errorf("next: %q", got)
		}
	}},
	{name: "static command", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		dir := t.TempDir()
		a := &events.CmdRunAction{Command: "pwd; echo err >&2; exit 3", IsStatic: true, Cwd: &dir}
		o := b.Run(context.Background(), a, 5*time.Second).(*events.CmdOutputObservation)
		if o.Content != dir+"\nerr" || o.Metadata.ExitCode != 3 || *o.Metadata.WorkingDir != dir ||
			o.Metadata.Suffix != "\n[The command completed with exit code 3.]" {
			t.Errorf("static: %q %+v", o.Content, o.Metadata)
		}
		if b.Cwd() == dir {
			t.Errorf("static command moved the session")
		}
		start := time.Now()
		a = &events.CmdRunAction{Command: "echo before; sleep 30", IsStatic: true}
		o = b.Run(context.Background(), a, 500*time.Millisecond).(*events.CmdOutputObservation)
		if o.Content != "before" || o.Metadata.ExitCode != 137 || o.Metadata.Suffix != bashKilledSuffix(500*time.Millisecond, 137) || time.Since(start) > 3*time.Second {
			t.Errorf("static timeout after %v: %q %+v", time.Since(start), o.Content, o.Metadata)
		}
		// The session itself was not disturbed.
		if o := runCmd(t, b, bashRun{cmd: ""}); o.Content != bashNoRunningToRetrieve {
			t.Errorf("session: %q", o.Content)
		}
	}},
	{name: "pager", bashOnly: true /* busybox sh runs its own less applet */, run: func(t *testing.T, shell string) {
		if _, err := exec.LookPath("less"); err != nil {
			t.Skip("less is not installed")
		}
		b := newTestBash(t, shell, time.Second)
		// git's way of paging: a text that fits the 1000-row screen is printed and less exits.
		if got := ok(t, b, "seq 1 3 | LESS=FRX less"); got != "1\n2\n3" {
			t.Errorf("less: %q", got)
		}
	}},
	{name: "nested shell", run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ok(t, b, "export OUTER=1")
		nested := "bash" // interactive, with readline
		if shell != "" {
			nested = shell
		}
		ok(t, b, nested) // a nested shell inherits the prompt
		if got := ok(t, b, "echo inner $OUTER"); got != "inner 1" {
			t.Errorf("inner: %q", got)
		}
		ok(t, b, "INNER=2")
		ok(t, b, "exit")
		if got := ok(t, b, "echo outer ${INNER:-unset}"); got != "outer unset" {
			t.Errorf("outer: %q", got)
		}
	}},
	{name: "PS1 changed by the agent", bashOnly: true, run: func(t *testing.T, shell string) {
		b := newTestBash(t, shell, time.Second)
		ok(t, b, "PS1='$ '")
		if got := ok(t, b, "echo still works"); got != "still works" {
			t.Errorf("%q", got)
		}
	}},
}

// bashTestAlive reports whether pid runs (a zombie does not count).
func bashTestAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// bashTestGone waits up to two seconds for pid to end.
func bashTestGone(pid int) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !bashTestAlive(pid) {
			return true
		}
	}
	return false
}

func TestBashBusybox(t *testing.T) {
	requireBusybox(t)
	ignore := goleak.IgnoreCurrent()
	defer goleak.VerifyNone(t, ignore)
	b := newTestBash(t, "busybox sh", time.Second)
	o := runCmd(t, b, bashRun{cmd: "echo $0"})
	contains(t, "$0", o.Content, "sh")
	if o.Metadata.Username == nil || *o.Metadata.Username == "" {
		t.Errorf("username missing: %+v", o.Metadata)
	}
	_ = b.Close()
}
