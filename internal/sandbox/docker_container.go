package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// This file is the container side of Docker.Start: find or create, start, wait.

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
