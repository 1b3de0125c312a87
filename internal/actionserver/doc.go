// Package actionserver is the server that runs inside a sandbox as "gohands action-server": it
// executes the agent's shell, file and editor actions and answers with observations, speaking
// OpenHands' action execution server protocol (POST /execute_action and friends) over HTTP on a
// unix socket (or TCP).
//
// The pieces:
//   - server.go: HTTP routes, API key check, one action at a time.
//   - bash*.go: BashSession, a persistent shell on a PTY with OpenHands' run semantics (PS1 marker,
//     soft and hard timeouts, input to a running command, output truncation).
//   - files*.go, editor*.go: Files, file read/write, the str_replace_editor commands, listing,
//     upload and download.
package actionserver

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Shell runs commands in one persistent shell session (implemented by BashSession).
type Shell interface {
	// Run executes a run action. timeout is the hard timeout (0: none); a.Blocking says whether
	// it was set by the agent, which disables the no-change (soft) timeout. The result is a
	// *events.CmdOutputObservation, or an *events.ErrorObservation for input the shell refuses
	// (several commands at once). Run never returns nil.
	Run(ctx context.Context, a *events.CmdRunAction, timeout time.Duration) events.Observation
	// Cwd is the shell's current working directory, as of the last command.
	Cwd() string
	Close() error
}

// FileOps executes file actions and file transfers (implemented by Files).
type FileOps interface {
	Read(ctx context.Context, a *events.FileReadAction) events.Observation
	Write(ctx context.Context, a *events.FileWriteAction) events.Observation
	Edit(ctx context.Context, a *events.FileEditAction) events.Observation
	// List returns the entries of one directory level as OpenHands' /list_files does.
	List(path string) []string
	// Upload stores r as destination/filename, or extracts it there when it is a zip
	// (recursive, or a name ending in .zip).
	Upload(destination, filename string, r io.Reader, recursive bool) error
	// Download writes a zip of every regular file under path (names relative to path) to w.
	Download(w io.Writer, path string) error
}

// Errors of file transfers, mapped to HTTP statuses by the server.
var (
	// ErrOutsideRoot: the path is outside the directories this server may touch (403).
	ErrOutsideRoot = errors.New("path is outside the sandbox's allowed directories")
	// ErrBadPath: the path is malformed, relative where it must be absolute, or missing (400/404).
	ErrBadPath = errors.New("bad path")
)
