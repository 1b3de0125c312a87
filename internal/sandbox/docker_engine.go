package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Container labels: which server instance owns a sandbox container, and for which conversation.
// Reconcile finds leftovers by the first; re-attach checks the second.
const (
	LabelInstance     = "gohands.instance"
	LabelConversation = "gohands.conversation"
)

// ContainerNamePrefix is OpenHands' container name prefix; the conversation id follows it.
const ContainerNamePrefix = "openhands-runtime-"

// Paths inside the container. The binary and the run directory are bind mounts (or, for the
// binary on remote engines, a copy made before the first start).
const (
	inContainerDir     = "/.gohands"
	inContainerBinary  = inContainerDir + "/gohands"
	inContainerRunDir  = inContainerDir + "/run"
	socketName         = "action.sock"
	apiKeyName         = "api-key"
	stopTimeoutSeconds = 5
)

// DockerEngine is a connection to a Docker engine, shared by every conversation's Docker runtime.
type DockerEngine struct {
	cli  *client.Client
	host string
}

// ConnectDocker connects to the engine the environment names (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH, DOCKER_API_VERSION; the local socket by default), negotiates the API version
// (engines from Docker 19.03 on) and checks that it answers. An engine that does not answer gives
// an error wrapping ErrNoEngine that says how to start one.
func ConnectDocker(ctx context.Context) (*DockerEngine, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("connect to docker: %w", err)
	}
	e := &DockerEngine{cli: cli, host: cli.DaemonHost()}
	if err := e.Ping(ctx); err != nil {
		cli.Close()
		return nil, err
	}
	return e, nil
}

// Ping checks that the engine answers, negotiating the API version on the first call.
func (e *DockerEngine) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := e.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if cerrdefs.IsInvalidArgument(err) {
		// It answered, but speaks an API older than the client supports.
		return fmt.Errorf("docker engine at %s: %w (Docker 19.03 or newer is needed)", e.host, err)
	}
	if err != nil {
		return fmt.Errorf("%w at %s: %v; start the Docker engine (as root: `dockerd &`, or "+
			"`systemctl start docker`; on Debian `apt-get install docker.io` first) or point DOCKER_HOST "+
			"at a running one", ErrNoEngine, e.host, err)
	}
	return nil
}

// Close releases the engine connection.
func (e *DockerEngine) Close() error { return e.cli.Close() }

// Host is the engine address (unix:///var/run/docker.sock, tcp://host:2376, …).
func (e *DockerEngine) Host() string { return e.host }

// APIVersion is the negotiated API version.
func (e *DockerEngine) APIVersion() string { return e.cli.ClientVersion() }

// Remote reports whether the engine runs on another machine, where host paths cannot be
// bind-mounted and a unix socket on this host cannot be reached.
func (e *DockerEngine) Remote() bool {
	u, err := url.Parse(e.host)
	return err != nil || (u.Scheme != "unix" && u.Scheme != "npipe")
}

// ContainerName is the sandbox container name of a conversation.
func ContainerName(conversationID string) string { return ContainerNamePrefix + conversationID }

// Reconcile brings the containers labelled with instanceID back in line after a server start:
// those of conversations keep accepts are stopped (their files kept, to be re-attached when the
// conversation returns); the others are removed with their run directories. It returns the
// conversation ids whose containers were removed.
func (e *DockerEngine) Reconcile(ctx context.Context, instanceID string, keep func(conversationID string) bool) (removed []string, err error) {
	if instanceID == "" {
		return nil, errors.New("reconcile sandboxes: no instance id")
	}
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelInstance+"="+instanceID),
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile sandboxes: list containers: %w", err)
	}
	var errs []error
	for _, c := range list.Items {
		conv := c.Labels[LabelConversation]
		if conv != "" && keep(conv) {
			if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
				if err := e.stop(ctx, c.ID); err != nil {
					errs = append(errs, fmt.Errorf("stop sandbox of %s: %w", conv, err))
					continue
				}
			}
			continue
		}
		runDir := runDirOf(c.Mounts)
		if err := e.remove(ctx, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox of %s: %w", conv, err))
			continue
		}
		removeRunDir(runDir)
		removed = append(removed, conv)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("reconcile sandboxes: %w", err)
	}
	return removed, nil
}

// stop stops a container, keeping its filesystem; a container already gone or stopped is fine.
func (e *DockerEngine) stop(ctx context.Context, id string) error {
	t := stopTimeoutSeconds
	_, err := e.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &t})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsNotModified(err) {
		return err
	}
	return nil
}

// remove force-removes a container; one already gone is fine.
func (e *DockerEngine) remove(ctx context.Context, id string) error {
	_, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		return err
	}
	return nil
}

func isRemovalInProgress(err error) bool {
	return err != nil && strings.Contains(err.Error(), "is already in progress")
}

// runDirOf returns the host directory mounted as the container's run directory, "" if none.
func runDirOf(mounts []container.MountPoint) string {
	for _, m := range mounts {
		if m.Destination == inContainerRunDir {
			return m.Source
		}
	}
	return ""
}

// removeRunDir removes what gohands put in a run directory found on a container, then the
// directory if nothing else is left: the path comes from container metadata, so nothing the
// backend did not create is deleted.
func removeRunDir(dir string) {
	if dir == "" || !filepath.IsAbs(dir) {
		return
	}
	os.Remove(filepath.Join(dir, socketName))
	os.Remove(filepath.Join(dir, apiKeyName))
	os.Remove(dir)
}
