package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Isolation modes of the local runtime.
const (
	IsolationAuto  = "auto"  // bubblewrap when installed, else none (with a warning)
	IsolationBwrap = "bwrap" // bubblewrap, or fail
	IsolationNone  = "none"  // a plain child process
)

// LocalOptions configure a Local runtime.
type LocalOptions struct {
	ConversationID string
	// Binary is the gohands binary to run as the action server (default: this executable).
	Binary string
	// RunDir holds the socket, the API key and the server's log (short: unix socket paths are
	// limited to 107 bytes).
	RunDir string
	// WorkspaceDir is the host directory the agent works in; created if missing.
	WorkspaceDir string
	Env          map[string]string
	Isolation    string // IsolationAuto (default), IsolationBwrap or IsolationNone
	// ActionTimeout is the hard timeout of actions without one (default DefaultActionTimeout).
	ActionTimeout time.Duration
	ReadyTimeout  time.Duration // default 10s
	Logger        *slog.Logger
}

// Local runs the action server as a child process on the host, in the conversation's workspace,
// inside bubblewrap when it is installed. It is for machines without Docker and for fast tests;
// without bubblewrap the agent's commands run with the backend's own rights.
type Local struct {
	opts   LocalOptions
	log    *slog.Logger
	apiKey string

	// mu guards the fields below.
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	client *Client
}

var _ Runtime = (*Local)(nil)

// NewLocal checks opts and returns a runtime that is not started yet.
func NewLocal(opts LocalOptions) (*Local, error) {
	if opts.ConversationID == "" || opts.RunDir == "" || opts.WorkspaceDir == "" {
		return nil, errors.New("local sandbox: ConversationID, RunDir and WorkspaceDir are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("local sandbox: find the gohands binary: %w", err)
		}
		opts.Binary = exe
	}
	if opts.ActionTimeout == 0 {
		opts.ActionTimeout = DefaultActionTimeout
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	switch opts.Isolation {
	case "":
		opts.Isolation = IsolationAuto
	case IsolationAuto, IsolationBwrap, IsolationNone:
	default:
		return nil, fmt.Errorf("local sandbox: unknown isolation %q (want auto, bwrap or none)", opts.Isolation)
	}
	var err error
	if opts.RunDir, err = filepath.Abs(opts.RunDir); err != nil {
		return nil, err
	}
	if opts.WorkspaceDir, err = filepath.Abs(opts.WorkspaceDir); err != nil {
		return nil, err
	}
	if sock := filepath.Join(opts.RunDir, "action.sock"); len(sock) > 107 {
		return nil, fmt.Errorf("local sandbox: socket path %s is %d bytes, over the 107 a unix socket allows; use a shorter run directory", sock, len(sock))
	}
	return &Local{opts: opts, log: opts.Logger.With("conversation_id", opts.ConversationID, "sandbox", "local")}, nil
}

// Info describes the sandbox.
func (l *Local) Info() Info {
	return Info{Kind: "local", ConversationID: l.opts.ConversationID, Name: "action server process",
		WorkspaceDir: l.opts.WorkspaceDir}
}

func (l *Local) socketPath() string { return filepath.Join(l.opts.RunDir, "action.sock") }
func (l *Local) logPath() string    { return filepath.Join(l.opts.RunDir, "action-server.log") }

// Start launches the action server and waits until it answers.
func (l *Local) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cmd != nil {
		return nil
	}
	for _, dir := range []string{l.opts.RunDir, l.opts.WorkspaceDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("start local sandbox: %w", err)
		}
	}
	if l.apiKey == "" {
		key := make([]byte, 32)
		rand.Read(key)
		l.apiKey = hex.EncodeToString(key)
	}
	keyFile := filepath.Join(l.opts.RunDir, "api-key")
	if err := os.WriteFile(keyFile, []byte(l.apiKey), 0o600); err != nil {
		return fmt.Errorf("start local sandbox: %w", err)
	}
	os.Remove(l.socketPath())
	args := []string{"action-server", "--socket", l.socketPath(), "--working-dir", l.opts.WorkspaceDir,
		"--api-key-file", keyFile, "--allowed-root", l.opts.WorkspaceDir}
	name, args, err := l.wrap(l.opts.Binary, args)
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(l.logPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("start local sandbox: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(name, args...)
	cmd.Dir = l.opts.WorkspaceDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = os.Environ()
	for k, v := range l.opts.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Its own process group, so Close can end every command the agent started; and it dies with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start local sandbox: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	client := NewUnixClient(l.socketPath(), l.apiKey)
	readyCtx, cancel := context.WithTimeout(ctx, l.opts.ReadyTimeout)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- client.WaitReady(readyCtx, 10*time.Millisecond) }()
	select {
	case err = <-ready:
	case <-exited:
		cancel()
		<-ready
		err = fmt.Errorf("the action server exited with %v", cmd.ProcessState)
	}
	if err != nil {
		stopGroup(cmd, exited)
		return fmt.Errorf("start local sandbox for %s: %w\nlast lines of %s:\n%s", l.opts.ConversationID, err,
			l.logPath(), tail(l.logPath(), 20))
	}
	l.cmd, l.exited, l.client = cmd, exited, client
	return nil
}

// wrap puts the command inside bubblewrap when asked for or available.
func (l *Local) wrap(bin string, args []string) (string, []string, error) {
	if l.opts.Isolation == IsolationNone {
		return bin, args, nil
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		if l.opts.Isolation == IsolationBwrap {
			return "", nil, errors.New("local sandbox: bubblewrap (bwrap) is not installed; install it (apt-get install bubblewrap) or choose isolation \"none\"")
		}
		l.log.Warn("bubblewrap is not installed: the agent's commands run unconfined with the server's rights; install bubblewrap or use the docker runtime")
		return bin, args, nil
	}
	// The host is visible read-only; only the workspace, the run directory and a private /tmp are
	// writable. The network stays shared: agents install packages.
	wrapped := []string{"--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
		"--bind", l.opts.WorkspaceDir, l.opts.WorkspaceDir,
		"--bind", l.opts.RunDir, l.opts.RunDir,
		"--ro-bind", bin, bin,
		"--chdir", l.opts.WorkspaceDir, "--", bin}
	return bwrap, append(wrapped, args...), nil
}

func (l *Local) current() (*Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client == nil {
		return nil, fmt.Errorf("local sandbox for %s: %w", l.opts.ConversationID, ErrNotStarted)
	}
	return l.client, nil
}

// Run executes an action.
func (l *Local) Run(ctx context.Context, action *events.Event) (*events.Event, error) {
	c, err := l.current()
	if err != nil {
		return nil, err
	}
	return Execute(ctx, c, action, l.opts.ActionTimeout)
}

// ListFiles lists one directory level.
func (l *Local) ListFiles(ctx context.Context, path string) ([]string, error) {
	c, err := l.current()
	if err != nil {
		return nil, err
	}
	return c.ListFiles(ctx, path)
}

// CopyTo uploads a host file or directory.
func (l *Local) CopyTo(ctx context.Context, hostPath, sandboxDir string, recursive bool) error {
	c, err := l.current()
	if err != nil {
		return err
	}
	return CopyTo(ctx, c, hostPath, sandboxDir, recursive)
}

// CopyFrom writes a zip of sandboxPath to w.
func (l *Local) CopyFrom(ctx context.Context, sandboxPath string, w io.Writer) error {
	c, err := l.current()
	if err != nil {
		return err
	}
	return c.Download(ctx, sandboxPath, w)
}

// Pause stops the action server; the workspace stays.
func (l *Local) Pause(ctx context.Context) error { return l.stop() }

// Resume starts it again.
func (l *Local) Resume(ctx context.Context) error { return l.Start(ctx) }

// Close stops the action server and every process it started.
func (l *Local) Close(ctx context.Context) error { return l.stop() }

// Delete stops the server and removes the workspace and run directory.
func (l *Local) Delete(ctx context.Context) error {
	l.stop()
	var errs []error
	for _, dir := range []string{l.opts.WorkspaceDir, l.opts.RunDir} {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete local sandbox %s: %w", l.opts.ConversationID, err)
	}
	return nil
}

func (l *Local) stop() error {
	l.mu.Lock()
	cmd, exited, client := l.cmd, l.exited, l.client
	l.cmd, l.exited, l.client = nil, nil, nil
	l.mu.Unlock()
	if cmd == nil {
		return nil
	}
	client.CloseIdle()
	stopGroup(cmd, exited)
	return nil
}

// stopGroup ends the process group politely, then by force.
func stopGroup(cmd *exec.Cmd, exited <-chan struct{}) {
	pgid := -cmd.Process.Pid
	syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
	}
	syscall.Kill(pgid, syscall.SIGKILL) // leftovers of the group, or a server that ignored TERM
	<-exited
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
