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
	"sort"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
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

// start finds the conversation's container or creates it, starts it if needed and waits for the
// action server.
func (d *Docker) start(ctx context.Context) error {
	info, err := d.engine.cli.ContainerInspect(ctx, d.name, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return d.create(ctx)
	case err != nil:
		return err
	}
	return d.attach(ctx, info.Container)
}

// create makes a new container and starts it.
func (d *Docker) create(ctx context.Context) error {
	runDir := d.opts.RunDir
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	key, err := ensureAPIKey(runDir)
	if err != nil {
		return err
	}
	cfg, hc := d.containerConfig(runDir)
	opts := client.ContainerCreateOptions{Name: d.name, Config: cfg, HostConfig: hc}
	res, err := d.engine.cli.ContainerCreate(ctx, opts)
	if cerrdefs.IsNotFound(err) {
		// The image is missing: pull it once and try again.
		if perr := d.pull(ctx); perr != nil {
			return perr
		}
		res, err = d.engine.cli.ContainerCreate(ctx, opts)
	}
	if cerrdefs.IsConflict(err) {
		// Created meanwhile by another start of the same conversation: attach to it.
		info, ierr := d.engine.cli.ContainerInspect(ctx, d.name, client.ContainerInspectOptions{})
		if ierr != nil {
			return fmt.Errorf("create container: %w", err)
		}
		return d.attach(ctx, info.Container)
	}
	if err != nil {
		return fmt.Errorf("create container from %s: %w", d.opts.Image, err)
	}
	for _, w := range res.Warnings {
		d.log.Warn("docker engine warning on create", "warning", w)
	}
	if d.opts.CopyBinary {
		if err := d.copyBinary(ctx, res.ID); err != nil {
			d.engine.remove(context.WithoutCancel(ctx), res.ID)
			return err
		}
	}
	d.setContainer(res.ID, runDir)
	return d.launch(ctx, res.ID, runDir, key)
}

// attach re-attaches to an existing container of this conversation.
func (d *Docker) attach(ctx context.Context, c container.InspectResponse) error {
	if c.Config == nil || c.Config.Labels[LabelConversation] != d.opts.ConversationID {
		return fmt.Errorf("container %s exists but was not made by gohands for this conversation; "+
			"remove it (docker rm -f %s) or use another conversation id", d.name, d.name)
	}
	if owner := c.Config.Labels[LabelInstance]; owner != d.opts.InstanceID {
		d.log.Warn("re-attaching a sandbox labelled with another server instance", "owner", owner)
	}
	runDir := runDirOf(c.Mounts)
	if runDir == "" {
		return fmt.Errorf("container %s has no %s mount; remove it (docker rm -f %s)", d.name, inContainerRunDir, d.name)
	}
	if err := checkSocketPath(runDir); err != nil {
		return err
	}
	d.setContainer(c.ID, runDir)
	state := container.StateCreated
	if c.State != nil {
		state = c.State.Status
	}
	switch state {
	case container.StatePaused:
		if _, err := d.engine.cli.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("unpause container: %w", err)
		}
		fallthrough
	case container.StateRunning, container.StateRestarting:
		key, err := readAPIKey(runDir)
		if err == nil {
			cl := NewUnixClient(filepath.Join(runDir, socketName), key)
			if err := d.waitReady(ctx, c.ID, cl); err != nil {
				return err
			}
			d.log.Info("re-attached to a running sandbox")
			return nil
		}
		// The key is gone (the run directory was cleaned): the server must restart to read a new one.
		d.log.Warn("API key of a running sandbox is unreadable; restarting it", "err", err)
		if err := d.engine.stop(ctx, c.ID); err != nil {
			return fmt.Errorf("stop container: %w", err)
		}
	case container.StateRemoving, container.StateDead:
		return fmt.Errorf("container %s is %s; remove it (docker rm -f %s)", d.name, state, d.name)
	}
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	key, err := ensureAPIKey(runDir)
	if err != nil {
		return err
	}
	d.log.Info("starting a stopped sandbox again", "state", state)
	return d.launch(ctx, c.ID, runDir, key)
}

func (d *Docker) setContainer(id, runDir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.id, d.runDir = id, runDir
}

// launch starts a created or stopped container and waits for its action server.
func (d *Docker) launch(ctx context.Context, id, runDir, key string) error {
	// A socket left by the previous run would only refuse connections; remove it so the wait
	// sees the new one.
	os.Remove(filepath.Join(runDir, socketName))
	if _, err := d.engine.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	return d.waitReady(ctx, id, NewUnixClient(filepath.Join(runDir, socketName), key))
}

// containerConfig is the container to create: the injected binary as its only command.
func (d *Docker) containerConfig(runDir string) (*container.Config, *container.HostConfig) {
	o := d.opts
	env := make([]string, 0, len(o.Env))
	for k, v := range o.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	labels := map[string]string{LabelConversation: o.ConversationID}
	if o.InstanceID != "" {
		labels[LabelInstance] = o.InstanceID
	}
	stop := stopTimeoutSeconds
	cfg := &container.Config{
		Image:      o.Image,
		Entrypoint: []string{}, // the image's own entrypoint would wrap, or replace, the action server
		Cmd: []string{inContainerBinary, "action-server",
			"--socket", inContainerRunDir + "/" + socketName,
			"--working-dir", o.WorkspaceDir,
			"--api-key-file", inContainerRunDir + "/" + apiKeyName},
		WorkingDir:  o.WorkspaceDir,
		Env:         env,
		Labels:      labels,
		StopTimeout: &stop,
	}
	mounts := []mount.Mount{{Type: mount.TypeBind, Source: runDir, Target: inContainerRunDir}}
	if !o.CopyBinary {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: o.Binary, Target: inContainerBinary, ReadOnly: true})
	}
	for _, m := range o.Mounts {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: m.Host, Target: m.Container, ReadOnly: m.ReadOnly})
	}
	useInit := true // an init reaps the shell's orphans and forwards SIGTERM, so stops are quick
	hc := &container.HostConfig{
		Mounts: mounts,
		Init:   &useInit,
		Resources: container.Resources{
			Memory:   o.MemoryBytes,
			NanoCPUs: int64(o.CPUs * 1e9),
		},
	}
	if o.MemoryBytes > 0 {
		hc.MemorySwap = o.MemoryBytes // no swap on top: the limit is the limit
	}
	if o.PidsLimit > 0 {
		p := o.PidsLimit
		hc.PidsLimit = &p
	}
	if o.Network != "" {
		hc.NetworkMode = container.NetworkMode(o.Network)
	}
	return cfg, hc
}

// pull fetches the image, waiting for the pull to finish.
func (d *Docker) pull(ctx context.Context) error {
	d.log.Info("pulling sandbox image", "image", d.opts.Image)
	resp, err := d.engine.cli.ImagePull(ctx, d.opts.Image, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(ctx)
		resp.Close()
	}
	if err != nil {
		return fmt.Errorf("image %s is not on the engine and pulling it failed: %w", d.opts.Image, err)
	}
	return nil
}
