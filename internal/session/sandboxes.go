package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/sandbox"
	"github.com/gohands/gohands/internal/storage"
)

// Sandbox kinds.
const (
	KindAuto   = "auto"
	KindDocker = "docker"
	KindLocal  = "local"
)

// Sandboxes makes the sandbox of a conversation: one kind for the whole server.
type Sandboxes struct {
	// Kind is KindDocker or KindLocal.
	Kind   string
	Engine *sandbox.DockerEngine // with KindDocker
	Config *config.Config
	Store  *storage.Store
	// Binary is the static gohands binary run inside sandboxes (default: this executable).
	Binary string
	// InstanceID labels the containers of this server (orphans are reconciled by it).
	InstanceID string
	// Workspace, when set, is the host directory every local sandbox works in (gohands run
	// --workspace); otherwise each conversation has its own under the store.
	Workspace string
	Logger    *slog.Logger
}

// ResolveSandboxes picks the sandbox kind: KindAuto is Docker when an engine answers within a few
// seconds, else local. note says what was chosen and why, for the user.
func ResolveSandboxes(ctx context.Context, kind string, s Sandboxes) (_ *Sandboxes, note string, err error) {
	switch kind {
	case "", KindAuto, KindDocker:
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		engine, err := sandbox.ConnectDocker(pingCtx)
		cancel()
		switch {
		case err == nil:
			s.Kind, s.Engine = KindDocker, engine
			note = "docker (one container per conversation)"
		case kind == KindDocker:
			return nil, "", err
		default:
			s.Kind = KindLocal
			note = fmt.Sprintf("local: no Docker engine answered (%s)", firstLine(err.Error()))
		}
	case KindLocal:
		s.Kind = KindLocal
		note = "local (chosen with --runtime local)"
	default:
		return nil, "", fmt.Errorf("unknown sandbox kind %q (want auto, docker or local)", kind)
	}
	if s.Kind == KindLocal && s.Workspace == "" {
		note += "; commands run on this machine" + localIsolationNote()
	}
	if s.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, "", fmt.Errorf("find the gohands binary for sandboxes: %w", err)
		}
		s.Binary = exe
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &s, note, nil
}

func localIsolationNote() string {
	if _, err := exec.LookPath("bwrap"); err == nil {
		return ", inside bubblewrap"
	}
	return " without isolation (install bubblewrap to confine them)"
}

// Sandbox is a conversation's sandbox as made by Sandboxes.
type Sandbox struct {
	sandbox.Runtime
	// HostWorkspace is the host directory of the workspace of a local sandbox, "" for a container.
	HostWorkspace string
	runDir        string
	removeRunDir  bool
}

// Close closes the runtime and removes a run directory nobody will re-attach to.
func (s *Sandbox) Close(ctx context.Context) error {
	err := s.Runtime.Close(ctx)
	if s.removeRunDir {
		os.RemoveAll(s.runDir)
	}
	return err
}

// RunDir is the host directory of the sandbox's socket and key.
func (s *Sandbox) RunDir() string { return s.runDir }

// New makes (does not start) the sandbox of conversation id; env is added to the sandbox's
// environment (the user's custom secrets) on top of sandbox.runtime_startup_env_vars.
func (f *Sandboxes) New(id string, env map[string]string) (*Sandbox, error) {
	// Unix socket paths are limited to 107 bytes: the run directory is a short temporary one.
	runDir, err := os.MkdirTemp("", "gh-")
	if err != nil {
		return nil, fmt.Errorf("sandbox run directory: %w", err)
	}
	cfg := f.Config
	allEnv := maps.Clone(cfg.Sandbox.RuntimeStartupEnvVars)
	if allEnv == nil {
		allEnv = map[string]string{}
	}
	maps.Copy(allEnv, env)
	timeout := time.Duration(cfg.Sandbox.Timeout) * time.Second
	sb := &Sandbox{runDir: runDir}
	switch f.Kind {
	case KindDocker:
		mem, err := cfg.Sandbox.MemoryBytes()
		if err != nil {
			os.RemoveAll(runDir)
			return nil, err
		}
		image := cfg.Sandbox.RuntimeContainerImage
		if image == "" {
			image = cfg.Sandbox.BaseContainerImage
		}
		rt, err := sandbox.NewDocker(f.Engine, sandbox.DockerOptions{ConversationID: id, Image: image, Binary: f.Binary,
			RunDir: runDir, InstanceID: f.InstanceID, WorkspaceDir: cfg.Core.WorkspaceMountPathInSandbox,
			Mounts: cfg.Sandbox.Mounts, Env: allEnv, MemoryBytes: mem,
			CPUs: cfg.Sandbox.CPUs, PidsLimit: int64(cfg.Sandbox.PidsLimit), Network: cfg.Sandbox.Network,
			KeepAlive: cfg.Sandbox.KeepRuntimeAlive, ActionTimeout: timeout, Logger: f.Logger})
		if err != nil {
			os.RemoveAll(runDir)
			return nil, err
		}
		// A new container keeps runDir (its bind mount); a re-attached one uses its own, so an
		// unused runDir is removed by Delete, or left empty in the temporary directory.
		sb.Runtime = rt
	case KindLocal:
		ws := f.Workspace
		if ws == "" {
			if ws, err = f.Store.WorkspaceDir(id); err != nil {
				os.RemoveAll(runDir)
				return nil, err
			}
		}
		rt, err := sandbox.NewLocal(sandbox.LocalOptions{ConversationID: id, Binary: f.Binary, RunDir: runDir,
			WorkspaceDir: ws, Env: allEnv, ActionTimeout: timeout, Logger: f.Logger})
		if err != nil {
			os.RemoveAll(runDir)
			return nil, err
		}
		sb.Runtime, sb.HostWorkspace, sb.removeRunDir = rt, ws, true
	default:
		os.RemoveAll(runDir)
		return nil, fmt.Errorf("unknown sandbox kind %q", f.Kind)
	}
	return sb, nil
}

// Delete removes conversation id's sandbox and what it holds, whether or not it runs.
func (f *Sandboxes) Delete(ctx context.Context, id string) error {
	if f.Kind == KindLocal && f.Workspace != "" {
		return nil // a shared host workspace is the user's, not the conversation's
	}
	sb, err := f.New(id, nil)
	if err != nil {
		return err
	}
	err = sb.Delete(ctx)
	os.RemoveAll(sb.runDir)
	if errors.Is(err, sandbox.ErrNotStarted) {
		return nil
	}
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
