package actionserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/gohands/gohands/internal/events"
)

// BashOptions configures a BashSession.
type BashOptions struct {
	// WorkDir is the initial working directory; it is created if missing ("" = the process's).
	WorkDir string
	// Shell is the shell command line ("" = bash from PATH or /bin/bash, else sh). Any POSIX shell
	// that expands $? and $(…) in PS1 works, busybox sh included.
	Shell string
	// NoChangeTimeout is the soft timeout: a command that prints nothing new for this long is
	// reported as still running (0 = 10s, OpenHands' NO_CHANGE_TIMEOUT_SECONDS default).
	NoChangeTimeout time.Duration
	// Env is extra environment for the shell (KEY=VALUE).
	Env []string
	// Username is reported as the user when the shell cannot say (non-bash shells, a user without
	// a passwd entry). The shell runs as the server's own user; nobody is switched to.
	Username string
	// KillOnTimeout makes a hard timeout kill the command. OpenHands never does: a timed-out
	// command keeps running, later calls show its output, and the agent decides whether to wait or
	// to send C-c. That is the default; set this for callers that want a hard timeout to be hard.
	KillOnTimeout bool
	Logger        *slog.Logger
}

// bashDefaultNoChangeTimeout is OpenHands' NO_CHANGE_TIMEOUT_SECONDS default.
const bashDefaultNoChangeTimeout = 10 * time.Second

// bashStatus is how the last command ended, as OpenHands tracks it.
type bashStatus int

const (
	bashIdle          bashStatus = iota // nothing ran yet, or the last command completed
	bashNoChangeTimer                   // still running after the soft timeout
	bashHardTimer                       // still running after the hard timeout
)

// BashSession is one persistent shell on a pseudo-terminal, driven with OpenHands' run semantics:
// a marked prompt tells when a command has finished and with which exit code and directory; a
// command that runs past the soft or hard timeout is reported as still running and keeps running;
// later calls can wait for more of its output, type into it, or send control keys.
type BashSession struct {
	cfg       bashShellConfig
	noChange  time.Duration
	killOnTTL bool
	log       *slog.Logger

	// runMu serialises Run; it guards status and prevOutput.
	runMu      sync.Mutex
	status     bashStatus
	prevOutput string // what the last timed-out observation was built from

	// procMu guards proc and closed; it is never held while waiting for a command.
	procMu sync.Mutex
	proc   *bashProc
	closed bool

	cwd atomic.Pointer[string]
}

var _ Shell = (*BashSession)(nil)

// errBashClosed: Run after Close.
var errBashClosed = errors.New("bash session is closed")

// NewBashSession starts the shell and waits for its first prompt.
func NewBashSession(ctx context.Context, opts BashOptions) (*BashSession, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := bashResolveShell(opts, log)
	if err != nil {
		return nil, err
	}
	b := &BashSession{cfg: cfg, noChange: opts.NoChangeTimeout, killOnTTL: opts.KillOnTimeout, log: log}
	if b.noChange <= 0 {
		b.noChange = bashDefaultNoChangeTimeout
	}
	dir := cfg.dir
	b.cwd.Store(&dir)
	p, err := startBashProc(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b.proc = p
	return b, nil
}

// Cwd is the shell's working directory as of the last completed command.
func (b *BashSession) Cwd() string { return *b.cwd.Load() }

// Close kills the shell and every process it started, and waits for them. It may be called while
// Run waits; that Run then returns.
func (b *BashSession) Close() error {
	b.procMu.Lock()
	b.closed = true
	p := b.proc
	b.procMu.Unlock()
	if p != nil {
		p.kill()
	}
	return nil
}

// shell returns the running shell, starting a new one (in the last known directory) when the
// previous one has exited.
func (b *BashSession) shell(ctx context.Context) (*bashProc, error) {
	b.procMu.Lock()
	defer b.procMu.Unlock()
	if b.closed {
		return nil, errBashClosed
	}
	if b.proc != nil && !b.proc.hasExited() {
		return b.proc, nil
	}
	if b.proc != nil {
		b.proc.kill()
	}
	cfg := b.cfg
	cfg.dir = b.Cwd()
	p, err := startBashProc(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b.proc = p
	b.status, b.prevOutput = bashIdle, ""
	return p, nil
}

// Run executes one run action; see Shell. The hard timeout is timeout (0: none); the soft timeout
// applies unless a.Blocking.
func (b *BashSession) Run(ctx context.Context, a *events.CmdRunAction, timeout time.Duration) events.Observation {
	if a.IsStatic {
		return b.runStatic(ctx, a, timeout)
	}
	b.runMu.Lock()
	defer b.runMu.Unlock()

	command := strings.TrimSpace(a.Command)
	running := b.status != bashIdle
	if !running && command == "" {
		return bashObservation(bashNoRunningToRetrieve, "", events.DefaultCmdOutputMetadata())
	}
	if !running && a.IsInput {
		return bashObservation(bashNoRunningToInteract, "", events.DefaultCmdOutputMetadata())
	}
	if cmds := bashSplitCommands(command); len(cmds) > 1 {
		return &events.ErrorObservation{Content: bashMultipleCommandsError(cmds)}
	}

	p, err := b.shell(ctx)
	if err != nil {
		return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
	}

	p.mu.Lock()
	initial := p.screen.markers
	atPrompt := p.screen.atPrompt()
	p.mu.Unlock()

	// A command cannot be typed while the previous one still runs: it would become its input.
	if running && !atPrompt && !a.IsInput && command != "" {
		md := events.DefaultCmdOutputMetadata()
		md.Suffix = bashNotExecutedSuffix(command)
		p.mu.Lock()
		raw := p.screen.output(false)
		p.mu.Unlock()
		content := b.commandOutput(command, raw, &md, bashContinuePrefix)
		return bashObservation(content, command, md)
	}

	key, isKey := bashSpecialKey(command)
	sent := command != ""
	if sent {
		var data []byte
		echo := ""
		typing := false
		switch {
		case isKey:
			if p.tty.ours(p.ptm) {
				echo = bashEchoKey(key)
			}
			data = key
		case a.IsInput:
			if p.tty.ours(p.ptm) {
				echo = command + "\n"
			}
			data = []byte(command + "\r")
		default:
			typing = !running || atPrompt // the shell reads a command
			line, err := b.typedCommand(command)
			if err != nil {
				return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
			}
			data = []byte(line + "\r")
		}
		if echo != "" {
			// What a terminal in cooked mode would echo (OpenHands' tmux pane shows it, and
			// its output extraction expects it).
			p.mu.Lock()
			p.screen.write([]byte(echo))
			p.mu.Unlock()
		}
		b.log.Debug("bash session: send", "command", command, "is_input", a.IsInput)
		if err := p.send(ctx, data, typing); err != nil {
			return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
		}
	}
	return b.await(ctx, p, a, command, initial, sent, timeout)
}

// bashMaxTypedLine is the longest line typed to the shell: a canonical terminal line ends at 4,096
// bytes, and busybox sh reads at most 1,023 bytes of a line and prompts again for the rest.
const bashMaxTypedLine = 1000

// typedCommand is the text to type for command. A command the terminal would mangle (a line too
// long, or control characters the line discipline acts on) is written to a file that the shell
// reads, removes and evaluates instead; that only shows in the rare error message that names eval.
func (b *BashSession) typedCommand(command string) (string, error) {
	if !bashNeedsFile(command) {
		return command, nil
	}
	f, err := os.CreateTemp("", "gohands-command-*.sh")
	if err != nil {
		return "", fmt.Errorf("store a long command: %w", err)
	}
	_, err = f.WriteString(command)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("store a long command: %w", err)
	}
	q := bashQuote(f.Name())
	return "__gohands_cmd=$(cat " + q + "; rm -f " + q + "); eval \"$__gohands_cmd\"", nil
}

func bashNeedsFile(command string) bool {
	line := 0
	for i := 0; i < len(command); i++ {
		switch c := command[i]; {
		case c == '\n':
			line = 0
			continue
		case c < 0x20 && c != '\t', c == 0x7f:
			return true
		}
		if line++; line > bashMaxTypedLine {
			return true
		}
	}
	return false
}

// bashQuote quotes s for the shell.
func bashQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// await waits for the command to complete, time out, or be abandoned.
func (b *BashSession) await(ctx context.Context, p *bashProc, a *events.CmdRunAction, command string,
	initial uint64, sent bool, timeout time.Duration) events.Observation {
	start := time.Now()
	lastChange := start
	p.mu.Lock()
	seenChanges := p.screen.changes
	p.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		markers, changes, atPrompt := p.screen.markers, p.screen.changes, p.screen.atPrompt()
		p.mu.Unlock()
		now := time.Now()
		if changes != seenChanges {
			seenChanges, lastChange = changes, now
		}
		if markers > initial || (!sent && atPrompt) {
			return b.completed(p, command, "")
		}
		if p.hasExited() {
			return b.shellExited(p, command)
		}
		if !a.Blocking && now.Sub(lastChange) >= b.noChange {
			return b.timedOut(p, command, bashNoChangeTimer, bashNoChangeSuffix(b.noChange))
		}
		if timeout > 0 && now.Sub(start) >= timeout {
			if b.killOnTTL {
				if obs := b.kill(ctx, p, command, initial, timeout); obs != nil {
					return obs
				}
			}
			return b.timedOut(p, command, bashHardTimer, bashHardTimeoutSuffix(timeout))
		}

		next := time.Hour
		if !a.Blocking {
			next = min(next, lastChange.Add(b.noChange).Sub(now))
		}
		if timeout > 0 {
			next = min(next, start.Add(timeout).Sub(now))
		}
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-p.notify:
		case <-p.exited:
		case <-timer.C:
		case <-ctx.Done():
			return b.timedOut(p, command, bashHardTimer, bashCancelledSuffix())
		}
	}
}

// kill ends a command that hit the hard timeout (KillOnTimeout) and waits briefly for the prompt.
// It returns nil when the prompt does not come back, so the command is reported as still running.
func (b *BashSession) kill(ctx context.Context, p *bashProc, command string, initial uint64, timeout time.Duration) events.Observation {
	p.interrupt(ctx)
	deadline := time.NewTimer(2 * time.Second)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		done := p.screen.markers > initial
		meta, _ := p.screen.lastMeta()
		p.mu.Unlock()
		if done {
			return b.completed(p, command, bashKilledSuffix(timeout, meta.exitCode))
		}
		select {
		case <-p.notify:
		case <-p.exited:
			return b.shellExited(p, command)
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// completed builds the observation of a command whose prompt came back and clears the screen.
// suffix replaces the usual completion suffix when not empty.
func (b *BashSession) completed(p *bashProc, command, suffix string) events.Observation {
	p.mu.Lock()
	single := len(p.screen.blocks) == 1 // the command's own starting prompt scrolled away
	raw := p.screen.output(single)
	meta, _ := p.screen.lastMeta()
	p.screen.clear()
	p.mu.Unlock()

	md := bashMetadata(meta)
	if single {
		md.Prefix = bashTruncatedPrefix(bashCountLines(raw))
	}
	_, isKey := bashSpecialKey(command)
	keyName := ""
	if isKey {
		keyName = command
	}
	md.Suffix = bashCompletedSuffix(meta.exitCode, keyName)
	if suffix != "" {
		md.Suffix = suffix
	}
	content := b.commandOutput(command, raw, &md, "")
	b.status, b.prevOutput = bashIdle, ""
	if meta.workingDir != "" {
		wd := meta.workingDir
		b.cwd.Store(&wd)
	}
	return bashObservation(content, command, md)
}

// timedOut builds the observation of a command that is still running; nothing is killed.
func (b *BashSession) timedOut(p *bashProc, command string, status bashStatus, suffix string) events.Observation {
	p.mu.Lock()
	raw := p.screen.output(false)
	p.mu.Unlock()
	md := events.DefaultCmdOutputMetadata()
	md.Suffix = suffix
	content := b.commandOutput(command, raw, &md, bashContinuePrefix)
	b.status = status
	return bashObservation(content, command, md)
}

// shellExited reports a shell that ended (the command was `exit`, or the shell was killed); the next
// Run starts a new one.
func (b *BashSession) shellExited(p *bashProc, command string) events.Observation {
	// Let the reader catch up with the last output.
	select {
	case <-p.readDone:
	case <-time.After(100 * time.Millisecond):
	}
	p.mu.Lock()
	raw := p.screen.output(false)
	p.mu.Unlock()
	md := events.DefaultCmdOutputMetadata()
	md.Suffix = bashShellExitedSuffix(p.exitCode)
	content := b.commandOutput(command, raw, &md, "")
	b.status, b.prevOutput = bashIdle, ""
	p.kill() // the session's leftovers and our goroutines
	return bashObservation(content, command, md)
}

// commandOutput turns the raw pane text into the observation content as OpenHands does: the part
// already shown by the previous (timed-out) observation is cut off, the command's echo is removed,
// and surrounding whitespace is trimmed.
func (b *BashSession) commandOutput(command, raw string, md *events.CmdOutputMetadata, continuePrefix string) string {
	out := raw
	if b.prevOutput != "" {
		out = strings.TrimPrefix(raw, b.prevOutput)
		md.Prefix = continuePrefix
	}
	b.prevOutput = raw
	out = strings.TrimLeftFunc(out, unicode.IsSpace)
	out = strings.TrimPrefix(out, strings.TrimLeftFunc(command, unicode.IsSpace))
	out = strings.TrimLeftFunc(out, unicode.IsSpace)
	return strings.TrimRightFunc(out, unicode.IsSpace)
}

func bashObservation(content, command string, md events.CmdOutputMetadata) *events.CmdOutputObservation {
	return &events.CmdOutputObservation{Content: bashTruncateContent(content), Command: command, Metadata: md}
}

func bashMetadata(m bashPromptMeta) events.CmdOutputMetadata {
	md := events.DefaultCmdOutputMetadata()
	md.ExitCode, md.PID = m.exitCode, m.pid
	md.Username, md.Hostname = &m.username, &m.hostname
	md.WorkingDir, md.PyInterpreterPath = &m.workingDir, &m.pyPath
	return md
}

// bashCountLines counts lines as Python's str.splitlines does for text without \r.
func bashCountLines(s string) int {
	if s == "" {
		return 0
	}
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// bashSpecialKey recognises OpenHands' special keys: exactly "C-" and one character, sent without
// Enter. It returns the control character to send (the text itself when there is none).
func bashSpecialKey(command string) ([]byte, bool) {
	if len(command) != 3 || !strings.HasPrefix(command, "C-") {
		return nil, false
	}
	switch c := command[2]; {
	case c >= 'a' && c <= 'z':
		return []byte{c - 'a' + 1}, true
	case c >= '@' && c <= '_': // @, A-Z, [ \ ] ^ _
		return []byte{c - '@'}, true
	case c == '?':
		return []byte{0x7f}, true
	case c == ' ':
		return []byte{0}, true
	}
	return []byte(command), true
}

// bashEchoKey is how a cooked terminal (ECHOCTL) echoes a control key: ^C, ^Z…; end-of-file and
// line ends are not shown that way.
func bashEchoKey(key []byte) string {
	if len(key) != 1 {
		return ""
	}
	switch c := key[0]; {
	case c == 0x04:
		return ""
	case c == '\t', c == '\n', c == '\r':
		return string(c)
	case c < 0x20:
		return "^" + string(rune(c+'@'))
	case c == 0x7f:
		return "^?"
	}
	return ""
}
