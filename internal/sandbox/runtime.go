// Package sandbox runs the agent's actions in an isolated place, one sandbox per conversation.
//
// A Runtime owns the lifecycle of one sandbox (start or re-attach, pause, resume, close, delete)
// and executes actions in it through the action server (package actionserver) running inside,
// reached with a Client over a unix socket. Implementations: Docker (one container per
// conversation, the gohands binary injected, no image builds) and Local (the action server as a
// child process on the host, inside bubblewrap when available).
package sandbox

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Runtime is one conversation's sandbox.
type Runtime interface {
	// Start creates the sandbox, or re-attaches to the existing one, and returns once its action
	// server answers.
	Start(ctx context.Context) error
	// Run executes an action and returns its observation (an event with no id yet; the caller
	// sets cause and tool metadata). See Execute for the rules shared by every runtime.
	Run(ctx context.Context, action *events.Event) (*events.Event, error)
	// ListFiles lists one directory level of the sandbox (relative paths are taken from the
	// workspace).
	ListFiles(ctx context.Context, path string) ([]string, error)
	// CopyTo uploads a host file, or with recursive a directory, into sandboxDir.
	CopyTo(ctx context.Context, hostPath, sandboxDir string, recursive bool) error
	// CopyFrom writes a zip of sandboxPath to w.
	CopyFrom(ctx context.Context, sandboxPath string, w io.Writer) error
	// Pause stops the sandbox and keeps its files; Resume starts it again.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Close releases the sandbox as configured (stopped, or kept running); Delete removes it
	// and everything it holds.
	Close(ctx context.Context) error
	Delete(ctx context.Context) error
	// Info describes the sandbox.
	Info() Info
}

// Info describes a sandbox.
type Info struct {
	Kind           string // "docker" or "local"
	ConversationID string
	// Name is the container name (docker) or the process description (local).
	Name string
	// WorkspaceDir is the agent's working directory inside the sandbox.
	WorkspaceDir string
}

// Errors callers branch on.
var (
	ErrNotStarted = errors.New("sandbox is not running")
	ErrNoEngine   = errors.New("no container engine answered")
)

// DefaultActionTimeout is OpenHands' sandbox.timeout: the hard timeout of actions without one.
const DefaultActionTimeout = 120 * time.Second

// SessionKeyHeader carries the per-conversation API key of the action server.
const SessionKeyHeader = "X-Session-API-Key"
