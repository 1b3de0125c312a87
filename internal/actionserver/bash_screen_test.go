package actionserver

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func bashTestPrompt(nonce, exitCode, dir string) string {
	return "\n###PS1JSON###\n{\n" +
		`  "pid": "",` + "\n" +
		`  "exit_code": "` + exitCode + `",` + "\n" +
		`  "username": "root",` + "\n" +
		`  "hostname": "box",` + "\n" +
		`  "working_dir": "` + dir + `",` + "\n" +
		`  "py_interpreter_path": "",` + "\n" +
		`  "gohands_session": "` + nonce + `"` + "\n" +
		"}\n###PS1END###\n"
}

func TestBashScreenRendering(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"crlf", []string{"a\r\nb\r\n"}, "a\nb\n"},
		{"carriage return overwrites", []string{"10%\r20%\r30%\n"}, "30%\n"},
		{"shorter rewrite keeps the tail", []string{"abcdef\rxy\n"}, "xycdef\n"},
		{"erase line", []string{"abcdef\r\x1b[Kxy\n"}, "xy\n"},
		{"erase whole line", []string{"abcdef\x1b[2K\rxy\n"}, "xy\n"},
		{"colours", []string{"\x1b[1;31mred\x1b[0m \x1b[32mgreen\x1b[m\n"}, "red green\n"},
		{"osc title", []string{"\x1b]0;title\x07text\n", "\x1b]2;t\x1b\\more\n"}, "text\nmore\n"},
		{"private modes", []string{"\x1b[?25lx\x1b[?25h\n"}, "x\n"},
		{"charset", []string{"\x1b(Bx\n"}, "x\n"},
		{"escape split across writes", []string{"a\x1b", "[3", "1mb\n"}, "ab\n"},
		{"utf-8 split across writes", []string{"h\xc3", "\xa9llo \xe2\x9c", "\x93\n"}, "héllo ✓\n"},
		{"invalid utf-8", []string{"a\xffb\n"}, "a\ufffdb\n"},
		{"backspace", []string{"ab\bc\n"}, "ac\n"},
		{"bell and controls dropped", []string{"a\x07b\x01c\n"}, "abc\n"},
		{"tabs kept", []string{"a\tb\n"}, "a\tb\n"},
		{"trailing spaces trimmed", []string{"a  \n  b \t\n"}, "a\n  b\n"},
		{"cursor column", []string{"abc\x1b[1Gx\n"}, "xbc\n"},
		{"partial line", []string{"a\nprompt: "}, "a\nprompt:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s bashScreen
			for _, c := range tt.chunks {
				s.write([]byte(c))
			}
			if got := s.output(false); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBashScreenBlocks(t *testing.T) {
	s := bashScreen{nonce: "n1"}
	s.write([]byte("startup noise\n" + bashTestPrompt("n1", "0", "/w")))
	if s.markers != 1 || !s.atPrompt() {
		t.Fatalf("markers %d, atPrompt %v", s.markers, s.atPrompt())
	}
	s.clear()
	if got := s.output(false); got != "" {
		t.Errorf("after clear: %q", got)
	}

	// Output, then the next prompt: the text between the blocks.
	s.write([]byte("out 1\nout 2\n"))
	if s.atPrompt() {
		t.Errorf("at prompt while output follows the prompt")
	}
	s.write([]byte(bashTestPrompt("n1", "3", "/w/sub")))
	if s.markers != 2 || !s.atPrompt() {
		t.Fatalf("markers %d", s.markers)
	}
	if got := s.output(false); got != "out 1\nout 2\n\n\n" { // segment + "\n" + empty tail, as OpenHands joins them
		t.Errorf("between blocks: %q", got)
	}
	m, _ := s.lastMeta()
	if m.exitCode != 3 || m.pid != -1 || m.workingDir != "/w/sub" || m.username != "root" || m.hostname != "box" {
		t.Errorf("meta %+v", m)
	}

	// Look-alikes are not prompts: another session's nonce, the raw PS1 text (exit code "$?").
	s.clear()
	s.write([]byte(bashTestPrompt("other", "0", "/x")))
	s.write([]byte(bashTestPrompt("n1", "$?", "$(pwd)")))
	s.write([]byte("###PS1JSON###\nnot json\n###PS1END###\n"))
	if s.markers != 2 {
		t.Errorf("look-alikes counted: markers %d", s.markers)
	}

	// A quote in a directory name does not break the block.
	s.write([]byte(bashTestPrompt("n1", "0", `/w/it"s`)))
	if m, _ := s.lastMeta(); s.markers != 3 || m.workingDir != `/w/it"s` {
		t.Errorf("quoted dir: markers %d meta %+v", s.markers, m)
	}
}

func TestBashScreenHistoryLimit(t *testing.T) {
	s := bashScreen{nonce: "n"}
	s.write([]byte(bashTestPrompt("n", "0", "/w")))
	s.clear()
	for i := 1; i <= 30000; i++ {
		fmt.Fprintf(writerFunc(s.write), "Line %d\n", i)
	}
	s.write([]byte(bashTestPrompt("n", "0", "/w")))
	if len(s.blocks) != 1 {
		t.Fatalf("blocks %d: the starting prompt should have scrolled away", len(s.blocks))
	}
	if s.rows > bashHistoryRows {
		t.Errorf("rows %d > %d", s.rows, bashHistoryRows)
	}
	out := s.output(true)
	if !strings.HasSuffix(out, "Line 30000\n\n") || strings.Contains(out, "Line 19000\n") || !strings.Contains(out, "Line 20000\n") {
		t.Errorf("kept %d lines: %q … %q", bashCountLines(out), out[:20], out[len(out)-20:])
	}

	// Long lines count as the rows they would wrap to, and the byte cap holds.
	var l bashScreen
	long := strings.Repeat("y", 5000) + "\n"
	for range 3000 {
		l.write([]byte(long))
	}
	if l.rows > bashHistoryRows || l.bytes > bashMaxScreenSize || len(l.lines) > bashHistoryRows/5 {
		t.Errorf("rows %d bytes %d lines %d", l.rows, l.bytes, len(l.lines))
	}
	// A line without end is wrapped rather than grown without bound.
	var w bashScreen
	w.write([]byte(strings.Repeat("z", bashMaxLineRunes+10)))
	if len(w.lines) != 1 || len(w.cur) != 10 {
		t.Errorf("lines %d cur %d", len(w.lines), len(w.cur))
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func TestBashMessages(t *testing.T) {
	// OpenHands' test compares the whole bracketed text for a 1 s hard timeout.
	want := "\n[The command timed out after 1.0 seconds. You may wait longer to see additional output by sending empty command '', send other commands to interact with the current process, send keys to interrupt/kill the command, or use the timeout parameter in execute_bash for future commands.]"
	if got := bashHardTimeoutSuffix(time.Second); got != want {
		t.Errorf("hard timeout suffix\n got %q\nwant %q", got, want)
	}
	for d, want := range map[time.Duration]string{2500 * time.Millisecond: "2.5", 120 * time.Second: "120.0", 100 * time.Millisecond: "0.1"} {
		if got := bashFloatSeconds(d); got != want {
			t.Errorf("bashFloatSeconds(%v) = %q, want %q", d, got, want)
		}
	}
	if got := bashNoChangeSuffix(10 * time.Second); !strings.HasPrefix(got, "\n[The command has no new output after 10 seconds. You may wait") {
		t.Errorf("no-change suffix %q", got)
	}
	if got := bashCompletedSuffix(130, "C-c"); got != "\n[The command completed with exit code 130. CTRL+C was sent.]" {
		t.Errorf("key suffix %q", got)
	}
	if got := bashTruncatedPrefix(3); got != "[Previous command outputs are truncated. Showing the last 3 lines of the output below.]\n" {
		t.Errorf("truncated prefix %q", got)
	}

	short := strings.Repeat("é", bashMaxContentRunes)
	if bashTruncateContent(short) != short {
		t.Errorf("content at the limit was truncated")
	}
	long := strings.Repeat("a", 20000) + strings.Repeat("b", 20000)
	got := bashTruncateContent(long)
	if got != strings.Repeat("a", 15000)+"\n[... Observation truncated due to length ...]\n"+strings.Repeat("b", 15000) {
		t.Errorf("truncated content has %d bytes", len(got))
	}
}

func TestBashSpecialKeys(t *testing.T) {
	for cmd, want := range map[string]string{"C-c": "\x03", "C-d": "\x04", "C-z": "\x1a", "C-C": "\x03", "C-[": "\x1b", "C-?": "\x7f"} {
		if got, ok := bashSpecialKey(cmd); !ok || string(got) != want {
			t.Errorf("bashSpecialKey(%q) = %q, %v", cmd, got, ok)
		}
	}
	for _, cmd := range []string{"C-", "C-cc", "c-c", "ls"} {
		if _, ok := bashSpecialKey(cmd); ok {
			t.Errorf("%q taken for a key", cmd)
		}
	}
	if bashEchoKey([]byte{3}) != "^C" || bashEchoKey([]byte{4}) != "" {
		t.Errorf("echo of keys")
	}
}

func FuzzBashSplitCommands(f *testing.F) {
	for _, s := range []string{"ls\npwd", "cat <<EOF\na\nEOF", "echo $(a\nb) 'x\ny' \"$((1+2))\"", "case x in a) ;; esac", "f() { :; }", "\\", "$(", "${", "`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds := bashSplitCommands(s)
		if len(cmds) == 0 {
			t.Fatalf("no commands for %q", s)
		}
	})
}
