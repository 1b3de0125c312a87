package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/actionserver"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runActionServer(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("action-server", stderr)
	socket := fs.String("socket", "", "unix socket to listen on")
	tcp := fs.String("tcp", "", "TCP address to listen on (host:port), for remote engines")
	workDir := fs.String("working-dir", "/workspace", "initial working directory of the shell")
	keyFile := fs.String("api-key-file", "", "file holding the API key every request must carry (X-Session-API-Key)")
	shell := fs.String("shell", "", "shell to run (default: bash if present, else sh)")
	noChange := fs.Duration("no-change-timeout", 0, "return a command's output after this long without new output (default 10s, or $NO_CHANGE_TIMEOUT_SECONDS)")
	killOnTimeout := fs.Bool("kill-on-timeout", true, "kill a command at its hard timeout (false: leave it running, as OpenHands does)")
	debug := fs.Bool("debug", false, "debug logging")
	var roots listFlag
	fs.Var(&roots, "allowed-root", "confine file operations to this directory (repeatable; default: anywhere)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*socket == "") == (*tcp == "") {
		return fmt.Errorf("%w: give exactly one of --socket and --tcp", errUsage)
	}
	log := newLogger(stderr, *debug)
	key := os.Getenv("SESSION_API_KEY")
	if *keyFile != "" {
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read the API key: %w", err)
		}
		key = strings.TrimSpace(string(data))
	}
	if key == "" {
		log.Warn("no API key: every local client may run commands in this sandbox")
	}
	if *noChange == 0 {
		if secs := os.Getenv("NO_CHANGE_TIMEOUT_SECONDS"); secs != "" {
			d, err := time.ParseDuration(secs + "s")
			if err != nil {
				return fmt.Errorf("NO_CHANGE_TIMEOUT_SECONDS=%q is not a number of seconds", secs)
			}
			*noChange = d
		}
	}
	if err := os.MkdirAll(*workDir, 0o755); err != nil {
		return fmt.Errorf("create the working directory: %w", err)
	}
	bash, err := actionserver.NewBashSession(ctx, actionserver.BashOptions{
		WorkDir: *workDir, Shell: *shell, NoChangeTimeout: *noChange, KillOnTimeout: *killOnTimeout, Logger: log})
	if err != nil {
		return err
	}
	defer bash.Close()
	files := actionserver.NewFiles(actionserver.FilesOptions{WorkDir: *workDir, Cwd: bash.Cwd,
		AllowedRoots: roots, Logger: log})
	defer files.Close()
	srv := actionserver.New(actionserver.Options{APIKey: key, Shell: bash, Files: files, Logger: log})

	var ln net.Listener
	if *socket != "" {
		if err := os.MkdirAll(filepath.Dir(*socket), 0o700); err != nil {
			return err
		}
		// A socket left by a stopped container or a killed process would make Listen fail.
		if err := os.Remove(*socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the stale socket: %w", err)
		}
		ln, err = net.Listen("unix", *socket)
		if err == nil {
			// The server often runs as root inside a container while the backend is an ordinary
			// user on the host; the run directory (0700, the backend's) is what guards the socket.
			err = os.Chmod(*socket, 0o666)
		}
	} else {
		ln, err = net.Listen("tcp", *tcp)
	}
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("action server ready", "addr", ln.Addr().String(), "working_dir", *workDir)
	return srv.Serve(ctx, ln)
}
