package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/gohands/gohands/internal/events"
)

// testImage is built by testdata/sandbox-image/build.sh from Debian's busybox-static and
// bash-static: small, and no registry is needed.
const testImage = "gohands-test-sandbox:latest"

// testInstance labels every container this test process creates, so leftovers can be found.
var testInstance = "gohands-test-" + randomHex(6)

var (
	engineOnce sync.Once
	testEng    *DockerEngine
	engineErr  error
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// testEngine connects to the Docker engine once per test process and makes sure the test image
// exists. Without an engine the test fails with how to get one, unless GOHANDS_SKIP_DOCKER=1.
func testEngine(t testing.TB) *DockerEngine {
	t.Helper()
	if os.Getenv("GOHANDS_SKIP_DOCKER") == "1" {
		t.Skip("GOHANDS_SKIP_DOCKER=1: Docker sandbox tests disabled")
	}
	engineOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		testEng, engineErr = ConnectDocker(ctx)
		if engineErr != nil {
			return
		}
		if _, err := testEng.cli.ImageInspect(ctx, testImage); err == nil {
			return
		}
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(), "testdata", "sandbox-image", "build.sh"))
		if out, err := cmd.CombinedOutput(); err != nil {
			engineErr = fmt.Errorf("build the test image %s with testdata/sandbox-image/build.sh: %v\n%s", testImage, err, out)
		}
	})
	if engineErr != nil {
		t.Fatalf("the Docker sandbox tests need a Docker engine and the test image: %v\n"+
			"(as root: apt-get install docker.io && dockerd --bridge=none --iptables=false &; "+
			"or set GOHANDS_SKIP_DOCKER=1 to skip these tests)", engineErr)
	}
	return testEng
}

// testDockerOptions fills what a test leaves empty: a fresh conversation id, the test image, the
// injected binary, a short run directory, this process's instance label and no network.
func testDockerOptions(t testing.TB, o DockerOptions) DockerOptions {
	t.Helper()
	if o.ConversationID == "" {
		o.ConversationID = randomHex(16)
	}
	if o.Image == "" {
		o.Image = testImage
	}
	if o.Binary == "" {
		o.Binary = testBinary(t)
	}
	if o.RunDir == "" {
		dir, err := os.MkdirTemp("", "gh")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		o.RunDir = dir
	}
	if o.InstanceID == "" {
		o.InstanceID = testInstance
	}
	if o.Network == "" {
		o.Network = "none"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second // generous: 20 starts at once on two cores
	}
	return o
}

// newDockerRuntime returns an unstarted sandbox whose container is removed when the test ends.
func newDockerRuntime(t testing.TB, o DockerOptions) *Docker {
	t.Helper()
	eng := testEngine(t)
	d, err := NewDocker(eng, testDockerOptions(t, o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Delete(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return d
}

// startDocker starts a sandbox with o (see testDockerOptions) and removes it when the test ends.
func startDocker(t testing.TB, o DockerOptions) *Docker {
	t.Helper()
	d := newDockerRuntime(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

// newTestDocker is the Docker entry of the shared action suite.
func newTestDocker(t *testing.T) Runtime {
	return startDocker(t, DockerOptions{Env: map[string]string{"NO_CHANGE_TIMEOUT_SECONDS": "1"}})
}

// runCmd runs a shell command in rt and returns its output observation.
func runCmd(t testing.TB, rt Runtime, command string, timeout time.Duration) *events.CmdOutputObservation {
	t.Helper()
	obs, err := tryCmd(context.Background(), rt, command, timeout)
	if err != nil {
		t.Fatalf("run %q: %v", command, err)
	}
	return obs
}

func tryCmd(ctx context.Context, rt Runtime, command string, timeout time.Duration) (*events.CmdOutputObservation, error) {
	ev := events.NewAction(&events.CmdRunAction{Command: command, Blocking: true})
	secs := timeout.Seconds()
	ev.Timeout = &secs
	obs, err := rt.Run(ctx, ev)
	if err != nil {
		return nil, err
	}
	out, ok := obs.Observation.(*events.CmdOutputObservation)
	if !ok {
		return nil, fmt.Errorf("run %q: got %s observation: %q", command, obs.Type(), observationText(obs))
	}
	return out, nil
}

func observationText(e *events.Event) string {
	raw, err := events.Marshal(e)
	if err != nil {
		return err.Error()
	}
	return string(raw)
}

// inspect returns the container of d, failing the test if the engine cannot tell.
func inspect(t testing.TB, d *Docker) (client.ContainerInspectResult, bool) {
	t.Helper()
	res, err := d.engine.cli.ContainerInspect(context.Background(), d.name, client.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return res, false
		}
		t.Fatalf("inspect %s: %v", d.name, err)
	}
	return res, true
}

// dockerLeftovers lists the containers this test process created and did not remove.
func dockerLeftovers(ctx context.Context) ([]string, error) {
	if testEng == nil {
		return nil, nil
	}
	list, err := testEng.cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", LabelInstance),
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range list.Items {
		if !strings.HasPrefix(c.Labels[LabelInstance], testInstance) {
			continue
		}
		names = append(names, strings.Join(c.Names, ",")+" ("+string(c.State)+")")
	}
	return names, nil
}

// checkNoDockerLeftovers fails when containers of this test process are left; TestMain may call
// it after the whole package ran.
func checkNoDockerLeftovers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	left, err := dockerLeftovers(ctx)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return errors.New("containers left behind by the tests: " + strings.Join(left, ", "))
	}
	return nil
}
