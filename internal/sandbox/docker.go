package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
)

// DockerOptions configure one conversation's Docker sandbox.
type DockerOptions struct {
	ConversationID string
	// Image is any Linux image with a shell (sandbox.base_container_image); it is pulled when
	// the engine does not have it.
	Image string
	// Binary is the host path of the static gohands binary injected into the container.
	Binary string
	// RunDir is this conversation's host directory for the action server's socket and API key,
	// bind-mounted into the container. Keep it short: a unix socket path has at most 107 bytes.
	RunDir string
	// InstanceID labels the container with the server instance that owns it (see Reconcile).
	InstanceID string
	// WorkspaceDir is the working directory inside the sandbox (default /workspace).
	WorkspaceDir string
	// Mounts are bind mounts into the sandbox (sandbox.volumes, or the workspace mount).
	Mounts []config.Mount
	// Env is set in the container (runtime_startup_env_vars and the like).
	Env map[string]string
	// Resource limits; zero means none.
	MemoryBytes int64
	CPUs        float64
	PidsLimit   int64
	// Network is the network mode or network name; "" is the engine's default.
	Network string
	// ReadyTimeout bounds the wait for the action server to answer (default 30s).
	ReadyTimeout time.Duration
	// KeepAlive leaves the container running on Close (sandbox.keep_runtime_alive).
	KeepAlive bool
	// CopyBinary copies the binary into the container before its first start instead of
	// bind-mounting it, as a remote engine needs.
	CopyBinary bool
	// ActionTimeout is the hard timeout of actions that set none (default DefaultActionTimeout).
	ActionTimeout time.Duration
	Logger        *slog.Logger
}

// Docker is a conversation's sandbox in a Docker container named openhands-runtime-{id}, running
// the injected gohands binary as its action server on a unix socket in RunDir.
//
// No image is built: the static binary is bind-mounted read-only at /.gohands/gohands (or copied
// there before the first start), so any image with a shell works. The backend reaches the server
// through the socket in the bind-mounted run directory, with the API key written next to it, so
// no port is published and "--network none" sandboxes work. Pause and Close stop the container
// and keep its filesystem; Start re-attaches by name; Delete removes it.
type Docker struct {
	engine *DockerEngine
	opts   DockerOptions
	name   string
	log    *slog.Logger

	// life serialises the lifecycle methods (Start, Pause, Resume, Close, Delete).
	life sync.Mutex

	// mu guards the fields below; Run and the file methods only read client under it.
	mu     sync.Mutex
	id     string  // container id, once created or found
	runDir string  // host run directory in use: the container's own mount source on re-attach
	client *Client // nil unless the action server answered and the sandbox was not stopped since
}

var _ Runtime = (*Docker)(nil)

// maxSocketPath is the longest unix socket path Linux accepts (sun_path less the final NUL).
const maxSocketPath = 107

var validConversationID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// NewDocker checks opts and returns the sandbox of one conversation; nothing is created until
// Start.
func NewDocker(engine *DockerEngine, opts DockerOptions) (*Docker, error) {
	if engine == nil {
		return nil, errors.New("docker sandbox: no engine")
	}
	if !validConversationID.MatchString(opts.ConversationID) {
		return nil, fmt.Errorf("docker sandbox: conversation id %q cannot name a container", opts.ConversationID)
	}
	if opts.Image == "" {
		return nil, errors.New("docker sandbox: no image (sandbox.base_container_image)")
	}
	if engine.Remote() {
		return nil, fmt.Errorf("docker sandbox: the engine at %s is remote; sandboxes on remote engines "+
			"need the TCP transport, which gohands does not have yet: use a local engine", engine.Host())
	}
	bin, err := filepath.Abs(opts.Binary)
	if err != nil || opts.Binary == "" {
		return nil, fmt.Errorf("docker sandbox: no gohands binary to inject")
	}
	if err := checkStaticELF(bin); err != nil {
		return nil, fmt.Errorf("docker sandbox: %w", err)
	}
	opts.Binary = bin
	if opts.RunDir == "" {
		return nil, errors.New("docker sandbox: no run directory")
	}
	if opts.RunDir, err = filepath.Abs(opts.RunDir); err != nil {
		return nil, fmt.Errorf("docker sandbox: %w", err)
	}
	if err := checkSocketPath(opts.RunDir); err != nil {
		return nil, fmt.Errorf("docker sandbox: %w", err)
	}
	if opts.WorkspaceDir == "" {
		opts.WorkspaceDir = "/workspace"
	}
	if !filepath.IsAbs(opts.WorkspaceDir) {
		return nil, fmt.Errorf("docker sandbox: workspace dir %q is not absolute", opts.WorkspaceDir)
	}
	for _, m := range opts.Mounts {
		if !filepath.IsAbs(m.Host) || !filepath.IsAbs(m.Container) {
			return nil, fmt.Errorf("docker sandbox: mount %s:%s: both paths must be absolute", m.Host, m.Container)
		}
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if opts.ActionTimeout <= 0 {
		opts.ActionTimeout = DefaultActionTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	name := ContainerName(opts.ConversationID)
	return &Docker{
		engine: engine,
		opts:   opts,
		name:   name,
		log:    opts.Logger.With("conversation_id", opts.ConversationID, "container", name),
	}, nil
}

// Info describes the sandbox.
func (d *Docker) Info() Info {
	return Info{Kind: "docker", ConversationID: d.opts.ConversationID, Name: d.name, WorkspaceDir: d.opts.WorkspaceDir}
}

// Start creates and starts the container, or re-attaches to the existing one of this
// conversation (starting it if it was stopped), and returns once the action server answers.
func (d *Docker) Start(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	if d.current() != nil {
		return nil
	}
	if err := d.start(ctx); err != nil {
		return fmt.Errorf("start sandbox %s: %w", d.name, err)
	}
	return nil
}

// Resume starts the stopped container again and waits for its action server.
func (d *Docker) Resume(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	if d.current() != nil {
		return nil
	}
	if err := d.start(ctx); err != nil {
		return fmt.Errorf("resume sandbox %s: %w", d.name, err)
	}
	return nil
}

// Pause stops the container; its filesystem stays for Resume. Running processes, the shell
// session and its environment are lost, as in OpenHands.
func (d *Docker) Pause(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	id := d.detach()
	if id == "" {
		return fmt.Errorf("pause sandbox %s: %w", d.name, ErrNotStarted)
	}
	if err := d.engine.stop(ctx, id); err != nil {
		return fmt.Errorf("pause sandbox %s: %w", d.name, err)
	}
	return nil
}

// Close stops the container (its filesystem is kept for a later re-attach), or leaves it
// running with KeepAlive. A sandbox never started is left alone.
func (d *Docker) Close(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	id := d.detach()
	if id == "" || d.opts.KeepAlive {
		return nil
	}
	if err := d.engine.stop(ctx, id); err != nil {
		return fmt.Errorf("close sandbox %s: %w", d.name, err)
	}
	return nil
}

// Delete removes the container, whatever its state and whether or not this value started it,
// and the run directories.
func (d *Docker) Delete(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	ref := d.detach()
	if ref == "" {
		ref = d.name
	}
	var found string
	if info, err := d.engine.cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{}); err == nil {
		found = runDirOf(info.Container.Mounts)
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("delete sandbox %s: %w", d.name, err)
	}
	if err := d.engine.remove(ctx, ref); err != nil {
		return fmt.Errorf("delete sandbox %s: %w", d.name, err)
	}
	removeRunDir(found)
	if err := os.RemoveAll(d.opts.RunDir); err != nil {
		return fmt.Errorf("delete sandbox %s: %w", d.name, err)
	}
	d.mu.Lock()
	d.id, d.runDir = "", ""
	d.mu.Unlock()
	return nil
}

// Run executes an action in the sandbox (see Execute).
func (d *Docker) Run(ctx context.Context, action *events.Event) (*events.Event, error) {
	c := d.current()
	if c == nil {
		return nil, fmt.Errorf("run in sandbox %s: %w", d.name, ErrNotStarted)
	}
	return Execute(ctx, c, action, d.opts.ActionTimeout)
}

// ListFiles lists one directory level of the sandbox.
func (d *Docker) ListFiles(ctx context.Context, path string) ([]string, error) {
	c := d.current()
	if c == nil {
		return nil, fmt.Errorf("list files in sandbox %s: %w", d.name, ErrNotStarted)
	}
	return c.ListFiles(ctx, path)
}

// CopyTo uploads a host file or directory into the sandbox.
func (d *Docker) CopyTo(ctx context.Context, hostPath, sandboxDir string, recursive bool) error {
	c := d.current()
	if c == nil {
		return fmt.Errorf("copy to sandbox %s: %w", d.name, ErrNotStarted)
	}
	return CopyTo(ctx, c, hostPath, sandboxDir, recursive)
}

// CopyFrom writes a zip of sandboxPath to w.
func (d *Docker) CopyFrom(ctx context.Context, sandboxPath string, w io.Writer) error {
	c := d.current()
	if c == nil {
		return fmt.Errorf("copy from sandbox %s: %w", d.name, ErrNotStarted)
	}
	return c.Download(ctx, sandboxPath, w)
}

func (d *Docker) current() *Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.client
}

// detach forgets the action server connection and returns the container id ("" if never
// started by this value).
func (d *Docker) detach() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client != nil {
		d.client.CloseIdle()
		d.client = nil
	}
	return d.id
}
