package actionserver

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// Logger receives debug records of what is sent and how commands end (nil: discarded).
	Logger *slog.Logger
}

// bashDefaultNoChangeTimeout is OpenHands' NO_CHANGE_TIMEOUT_SECONDS default.
const bashDefaultNoChangeTimeout = 10 * time.Second

// bashStatus is how the last command ended, as OpenHands tracks it.
type bashStatus int

const (
	bashIdle         bashStatus = iota // nothing ran yet, or the last command completed
	bashSoftTimedOut                   // still running after the soft timeout
	bashHardTimedOut                   // still running after the hard timeout
)

// BashSession is one persistent shell on a pseudo-terminal, driven with OpenHands' run semantics:
// a marked prompt tells when a command has finished and with which exit code and directory; a
// command that runs past the soft or hard timeout is reported as still running and keeps running;
// later calls can wait for more of its output, type into it, or send control keys.
type BashSession struct {
	cfg           bashShellConfig
	noChange      time.Duration
	killOnTimeout bool
	log           *slog.Logger

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
	b := &BashSession{cfg: cfg, noChange: opts.NoChangeTimeout, killOnTimeout: opts.KillOnTimeout, log: log}
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
	b.log.Warn("bash session: the shell has exited; starting a new one", "dir", b.Cwd())
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

	p, err := b.shell(ctx)
	if err != nil {
		return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
	}
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

	p.mu.Lock()
	initial := p.screen.markers
	atPrompt := p.screen.atPrompt()
	p.mu.Unlock()
	idle := !running || atPrompt // the shell waits for a command (a timed-out one may have ended)

	// A command cannot be typed while the previous one still runs: it would become its input.
	if !idle && !a.IsInput && command != "" {
		md := events.DefaultCmdOutputMetadata()
		md.Suffix = bashNotExecutedSuffix(command)
		p.mu.Lock()
		raw := p.screen.output(false)
		p.mu.Unlock()
		content := b.commandOutput(command, raw, &md, bashContinuePrefix)
		return bashObservation(content, command, md)
	}

	sent := command != "" // an empty command only watches
	if sent {
		if err := b.deliver(ctx, p, a, command); err != nil {
			return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
		}
	}
	return b.await(ctx, p, a, command, initial, sent, timeout)
}

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
			return b.timedOut(p, command, bashSoftTimedOut, bashNoChangeSuffix(b.noChange))
		}
		if timeout > 0 && now.Sub(start) >= timeout {
			if b.killOnTimeout {
				if obs := b.kill(ctx, p, command, initial, timeout); obs != nil {
					return obs
				}
			}
			return b.timedOut(p, command, bashHardTimedOut, bashHardTimeoutSuffix(timeout))
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
			return b.timedOut(p, command, bashHardTimedOut, bashCancelledSuffix())
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
