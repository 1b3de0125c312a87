package actionserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// bashStartTimeout bounds how long a new shell may take to print its first marked prompt.
const bashStartTimeout = 20 * time.Second

// bashShellConfig is how to start a shell; it is resolved once from BashOptions.
type bashShellConfig struct {
	argv     []string // the interactive shell
	base     []string // the shell without its interactive flags, for sh -c
	isBash   bool
	dir      string
	env      []string
	username string // reported by non-bash shells, which have no \u
	hostname string
	log      *slog.Logger
}

func bashResolveShell(opts BashOptions, log *slog.Logger) (bashShellConfig, error) {
	cfg := bashShellConfig{dir: opts.WorkDir, log: log}
	if f := strings.Fields(opts.Shell); len(f) > 0 {
		cfg.argv = f
	} else if p, err := exec.LookPath("bash"); err == nil {
		cfg.argv = []string{p}
	} else if _, err := os.Stat("/bin/bash"); err == nil {
		cfg.argv = []string{"/bin/bash"}
	} else {
		cfg.argv = []string{"sh"}
	}
	cfg.isBash = filepath.Base(cfg.argv[len(cfg.argv)-1]) == "bash"
	cfg.base = append([]string(nil), cfg.argv...)
	if cfg.isBash {
		// No readline: it would echo and redraw the command line itself.
		cfg.argv = append(cfg.argv, "--noediting")
	}
	cfg.argv = append(cfg.argv, "-i")

	if cfg.dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return cfg, fmt.Errorf("bash session: working directory: %w", err)
		}
		cfg.dir = wd
	}
	abs, err := filepath.Abs(cfg.dir)
	if err != nil {
		return cfg, fmt.Errorf("bash session: working directory %s: %w", cfg.dir, err)
	}
	cfg.dir = abs

	if u, err := user.Current(); err == nil && u.Username != "" {
		cfg.username = u.Username
	} else if opts.Username != "" {
		cfg.username = opts.Username
	} else {
		cfg.username = os.Getenv("USER")
	}
	cfg.hostname, _ = os.Hostname()
	if i := strings.IndexByte(cfg.hostname, '.'); i > 0 {
		cfg.hostname = cfg.hostname[:i] // as bash's \h
	}

	// The prompt variables are set by the setup line; inherited ones would only get in the way.
	// TERM is what tmux gives its panes (Env may override it). Not "dumb": less, as git's pager,
	// would then stop at "terminal is not fully functional" instead of printing a short text and
	// exiting as it does on OpenHands' 1000-row pane.
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "PS1", "PS2", "PROMPT_COMMAND", "TERM", bashPS1Env:
			continue
		}
		cfg.env = append(cfg.env, kv)
	}
	cfg.env = append(cfg.env, "TERM=screen")
	cfg.env = append(cfg.env, opts.Env...)
	return cfg, nil
}

// bashPS1Env carries the prompt into the shell and its children (a nested shell prompts with it
// too). Programs that print their environment show the marker text, but with "$?" where the exit
// code goes, which bashParsePromptBody does not take for a prompt.
const bashPS1Env = "GOHANDS_PS1"

// bashPS1 is the prompt: OpenHands' marker block (a pretty-printed JSON object between
// ###PS1JSON### and ###PS1END###, each on its own line) plus a per-session nonce, so that text that
// merely looks like a prompt (an OpenHands log being printed, say) is not taken for one.
func bashPS1(cfg bashShellConfig, nonce string) string {
	userExp, hostExp := `\u`, `\h`
	if !cfg.isBash {
		userExp, hostExp = bashPromptLiteral(cfg.username), bashPromptLiteral(cfg.hostname)
	}
	return "\n" + bashMarkerBegin + "\n{\n" +
		`  "pid": "$!",` + "\n" +
		`  "exit_code": "$?",` + "\n" +
		`  "username": "` + userExp + `",` + "\n" +
		`  "hostname": "` + hostExp + `",` + "\n" +
		`  "working_dir": "$(pwd)",` + "\n" +
		`  "py_interpreter_path": "$(which python 2>/dev/null || echo "")",` + "\n" +
		`  "gohands_session": "` + nonce + `"` + "\n" +
		"}\n" + bashMarkerEnd + "\n"
}

// bashPromptLiteral keeps the characters of s that mean nothing to prompt expansion.
func bashPromptLiteral(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '"', '\\', '$', '`', '\n', '\r':
			return -1
		}
		return r
	}, s)
}

// bashSetupLine installs the prompt. For bash, PROMPT_COMMAND puts PS1 back before every prompt
// (as OpenHands does), so a command that changes PS1 cannot break the session; it is exported, as
// OpenHands does, so that a nested bash prints the marker too. History expansion is switched off
// so that "!" in an agent's command is an ordinary character.
func bashSetupLine(isBash bool) string {
	line := " PS2=''; "
	if isBash {
		line += "set +H; export PROMPT_COMMAND='PS1=$" + bashPS1Env + "'; "
	}
	return line + "export PS1=$" + bashPS1Env + "\r"
}

// bashProc is one shell process on a pseudo-terminal. A reader goroutine renders everything the
// terminal prints into screen; a waiter goroutine reaps the shell. kill stops both.
type bashProc struct {
	cmd *exec.Cmd
	ptm *os.File // the pseudo-terminal's master side
	pts *os.File // its slave side, kept to flush pending input (see keyFlush)
	pid int
	log *slog.Logger
	tty bashTermios // what we set on the terminal

	writeStall time.Duration // how long a write may make no progress (see write)

	// mu guards screen.
	mu     sync.Mutex
	screen bashScreen

	notify   chan struct{} // capacity 1: the screen changed or the shell exited
	exited   chan struct{} // closed once the shell has been reaped
	exitCode int           // set before exited is closed
	readDone chan struct{} // closed when the reader stops

	killOnce sync.Once
}

// startBashProc starts a shell in cfg.dir and waits for its first marked prompt.
func startBashProc(ctx context.Context, cfg bashShellConfig) (*bashProc, error) {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("bash session: create working directory: %w", err)
	}
	var nb [8]byte
	_, _ = rand.Read(nb[:])
	nonce := hex.EncodeToString(nb[:])

	ptm, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("bash session: open pty: %w", err)
	}
	// tmux's pane is 1000x1000; programs that format for the width see the same.
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: bashScreenCols, Cols: bashScreenCols}); err != nil {
		cfg.log.Debug("bash session: set pty size", "error", err)
	}
	if ptm, err = bashPollable(ptm); err != nil {
		_ = tty.Close()
		return nil, fmt.Errorf("bash session: pty: %w", err)
	}
	termios := bashTermios{}
	if err := termios.apply(tty); err != nil {
		_ = ptm.Close()
		_ = tty.Close()
		return nil, fmt.Errorf("bash session: configure terminal: %w", err)
	}

	cmd := exec.Command(cfg.argv[0], cfg.argv[1:]...)
	cmd.Dir = cfg.dir
	cmd.Env = append(append([]string(nil), cfg.env...), bashPS1Env+"="+bashPS1(cfg, nonce))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		_ = ptm.Close()
		_ = tty.Close()
		return nil, fmt.Errorf("bash session: start %s: %w", strings.Join(cfg.argv, " "), err)
	}

	p := &bashProc{
		cmd: cmd, ptm: ptm, pts: tty, pid: cmd.Process.Pid, log: cfg.log, tty: termios, writeStall: bashWriteStall,
		screen: bashScreen{nonce: nonce},
		notify: make(chan struct{}, 1), exited: make(chan struct{}), readDone: make(chan struct{}),
	}
	go p.read()
	go p.wait()

	if err := p.send(ctx, []byte(bashSetupLine(cfg.isBash)), true); err != nil {
		p.kill()
		return nil, fmt.Errorf("bash session: set up prompt: %w", err)
	}
	if err := p.waitFirstPrompt(ctx); err != nil {
		p.mu.Lock()
		seen := p.screen.output(false)
		p.mu.Unlock()
		p.kill()
		if len(seen) > 2000 {
			seen = seen[len(seen)-2000:]
		}
		return nil, fmt.Errorf("bash session: %s: %w (terminal output: %q)", strings.Join(cfg.argv, " "), err, seen)
	}
	p.mu.Lock()
	p.screen.clear()
	p.mu.Unlock()
	cfg.log.Debug("bash session started", "pid", p.pid, "shell", strings.Join(cfg.argv, " "), "dir", cfg.dir)
	return p, nil
}

func (p *bashProc) waitFirstPrompt(ctx context.Context) error {
	timer := time.NewTimer(bashStartTimeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok := p.screen.markers > 0
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-p.notify:
		case <-p.exited:
			return fmt.Errorf("shell exited with code %d before its first prompt", p.exitCode)
		case <-timer.C:
			return errors.New("no prompt within " + bashStartTimeout.String())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *bashProc) read() {
	defer close(p.readDone)
	buf := make([]byte, 32<<10)
	for {
		n, err := p.ptm.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.screen.write(buf[:n])
			p.mu.Unlock()
			p.signal()
		}
		if err != nil {
			return // EIO once no process holds the terminal, or the master was closed
		}
	}
}

func (p *bashProc) wait() {
	err := p.cmd.Wait()
	code := -1
	if st := p.cmd.ProcessState; st != nil {
		code = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	p.exitCode = code
	p.log.Debug("bash session: shell exited", "pid", p.pid, "code", code, "error", err)
	close(p.exited)
	p.signal()
}

func (p *bashProc) signal() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *bashProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

const bashWriteStall = 5 * time.Second

// bashPollable replaces the pty master with a descriptor in the runtime poller. pty.Open leaves the
// master in blocking mode; then a Read could not be interrupted by Close (it would wait for every
// process holding the terminal, and a program that left the session may hold it for ever) and
// write deadlines would not work.
func bashPollable(f *os.File) (*os.File, error) {
	dup := -1
	err := bashControl(f, func(fd int) error {
		var err error
		dup, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	name := f.Name()
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		_ = unix.Close(dup)
		return nil, err
	}
	return os.NewFile(uintptr(dup), name), nil
}

// write sends data to the terminal. A reader that does not read (the terminal's input buffer holds
// a few KiB) must not block us forever: the write fails after bashWriteStall without progress.
func (p *bashProc) write(ctx context.Context, data []byte) error {
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		_ = p.ptm.SetWriteDeadline(time.Now().Add(p.writeStall))
		n, err := p.ptm.Write(data)
		data = data[n:]
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && n > 0 {
				continue
			}
			return fmt.Errorf("write to terminal: %w", err)
		}
	}
	return nil
}

// send writes data to the terminal. typing: data is a command for the shell, which waits for one;
// first undo whatever terminal modes a program left behind.
func (p *bashProc) send(ctx context.Context, data []byte, typing bool) error {
	if typing {
		if err := p.tty.apply(p.ptm); err != nil {
			p.log.Debug("bash session: reset terminal modes", "error", err)
		}
	}
	return p.write(ctx, data)
}

// kill ends the shell, every process of its session, and the goroutines; it waits for them.
func (p *bashProc) kill() {
	p.killOnce.Do(func() {
		// SIGHUP first: an interactive shell passes it on to its jobs, which lets them exit
		// cleanly; then everything left in the session is killed outright.
		_ = syscall.Kill(p.pid, syscall.SIGHUP)
		select {
		case <-p.exited:
		case <-time.After(200 * time.Millisecond):
		}
		bashKillSession(p.pid)
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.exited
		_ = p.ptm.Close()
		_ = p.pts.Close()
		<-p.readDone
	})
}

// keyFlush prepares sending a signal key (Ctrl-C, Ctrl-\, Ctrl-Z): when the terminal will turn it
// into a signal, it drops the unread input first, as the terminal does on that signal anyway.
// Otherwise a program that reads nothing can fill the input queue, and the key would wait behind
// the queued input for ever.
func (p *bashProc) keyFlush(key byte) {
	if key != 0x03 && key != 0x1c && key != 0x1a {
		return
	}
	_ = bashControl(p.pts, func(fd int) error {
		tio, err := unix.IoctlGetTermios(fd, bashIoctlGetTermios)
		if err != nil || tio.Lflag&unix.ISIG == 0 || tio.Lflag&unix.NOFLSH != 0 {
			return err
		}
		return bashFlushInput(fd)
	})
}

// interrupt stops the foreground command: SIGKILL to its process group, or Ctrl-C when the shell
// itself is busy (a loop of builtins), since killing the shell's own group would kill the shell.
func (p *bashProc) interrupt(ctx context.Context) {
	if pg, err := bashForegroundGroup(p.ptm); err == nil && pg > 0 && pg != p.pid {
		_ = syscall.Kill(-pg, syscall.SIGKILL)
		return
	}
	_ = p.write(ctx, []byte{0x03})
}
