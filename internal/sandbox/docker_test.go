package sandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/gohands/gohands/internal/events"
)

func init() { suiteRuntimes["docker"] = newTestDocker }

func TestDockerStartRunsActions(t *testing.T) {
	d := startDocker(t, DockerOptions{MemoryBytes: 256 << 20, CPUs: 1, PidsLimit: 256,
		Env: map[string]string{"GOHANDS_TEST_VAR": "from-env"}})

	o := runCmd(t, d, "echo hi", 10*time.Second)
	if strings.TrimSpace(o.Content) != "hi" || o.Metadata.ExitCode != 0 {
		t.Fatalf("echo hi: content %q, exit %d", o.Content, o.Metadata.ExitCode)
	}
	if o := runCmd(t, d, "pwd; echo $GOHANDS_TEST_VAR", 10*time.Second); !strings.Contains(o.Content, "/workspace") ||
		!strings.Contains(o.Content, "from-env") {
		t.Fatalf("working dir and env: %q", o.Content)
	}
	if info := d.Info(); info.Kind != "docker" || info.Name != "openhands-runtime-"+d.opts.ConversationID || info.WorkspaceDir != "/workspace" {
		t.Fatalf("info: %+v", info)
	}

	res, ok := inspect(t, d)
	if !ok {
		t.Fatal("container not found")
	}
	c := res.Container
	if c.Config.Labels[LabelInstance] != testInstance || c.Config.Labels[LabelConversation] != d.opts.ConversationID {
		t.Errorf("labels: %v", c.Config.Labels)
	}
	hc := c.HostConfig
	if hc.Memory != 256<<20 || hc.NanoCPUs != 1e9 || hc.PidsLimit == nil || *hc.PidsLimit != 256 || hc.NetworkMode != "none" {
		t.Errorf("limits: memory %d, nano cpus %d, pids %v, network %q", hc.Memory, hc.NanoCPUs, hc.PidsLimit, hc.NetworkMode)
	}
	var binary bool
	for _, m := range c.Mounts {
		if m.Destination == inContainerBinary {
			binary = !m.RW
		}
	}
	if !binary {
		t.Errorf("the binary is not bind-mounted read-only: %+v", c.Mounts)
	}
	if st, err := os.Stat(filepath.Join(d.opts.RunDir, apiKeyName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("api key file: %v %v", st, err)
	}
	// A second Start is a no-op.
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDockerPauseResumeKeepsFiles(t *testing.T) {
	ctx := context.Background()
	d := startDocker(t, DockerOptions{})
	runCmd(t, d, "echo kept > /workspace/kept.txt", 10*time.Second)
	if err := d.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if res, _ := inspect(t, d); res.Container.State.Running {
		t.Fatal("container still running after Pause")
	}
	if _, err := d.Run(ctx, events.NewAction(&events.CmdRunAction{Command: "true"})); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("run while paused: %v", err)
	}
	if err := d.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if o := runCmd(t, d, "cat /workspace/kept.txt", 10*time.Second); strings.TrimSpace(o.Content) != "kept" {
		t.Fatalf("file lost across pause/resume: %q", o.Content)
	}
}

func TestDockerReattachAfterClose(t *testing.T) {
	ctx := context.Background()
	first := startDocker(t, DockerOptions{})
	runCmd(t, first, "echo kept > /workspace/kept.txt", 10*time.Second)
	key, err := readAPIKey(first.opts.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if res, ok := inspect(t, first); !ok || res.Container.State.Running {
		t.Fatal("Close should stop the container and keep it")
	}

	// The server comes back with another run directory: the container's own one is used.
	second := startDocker(t, DockerOptions{ConversationID: first.opts.ConversationID})
	if o := runCmd(t, second, "cat /workspace/kept.txt", 10*time.Second); strings.TrimSpace(o.Content) != "kept" {
		t.Fatalf("re-attached sandbox lost the file: %q", o.Content)
	}
	if again, _ := readAPIKey(first.opts.RunDir); again != key {
		t.Error("the API key changed across re-attach")
	}
}

func TestDockerKeepAliveReattachesRunning(t *testing.T) {
	ctx := context.Background()
	first := startDocker(t, DockerOptions{KeepAlive: true})
	runCmd(t, first, "echo alive > /tmp/alive.txt", 10*time.Second)
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ := inspect(t, first)
	if !res.Container.State.Running {
		t.Fatal("KeepAlive: Close stopped the container")
	}
	pid := res.Container.State.Pid
	second := startDocker(t, DockerOptions{ConversationID: first.opts.ConversationID, RunDir: first.opts.RunDir})
	if o := runCmd(t, second, "cat /tmp/alive.txt", 10*time.Second); strings.TrimSpace(o.Content) != "alive" {
		t.Fatalf("re-attached running sandbox: %q", o.Content)
	}
	if res, _ := inspect(t, second); res.Container.State.Pid != pid {
		t.Error("re-attaching a running sandbox restarted it")
	}
}

func TestDockerDeleteRemovesEverything(t *testing.T) {
	ctx := context.Background()
	d := startDocker(t, DockerOptions{})
	if err := d.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := inspect(t, d); ok {
		t.Fatal("container still exists after Delete")
	}
	if _, err := os.Stat(d.opts.RunDir); !os.IsNotExist(err) {
		t.Fatalf("run directory still exists after Delete: %v", err)
	}
	if err := d.Delete(ctx); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := d.Run(ctx, events.NewAction(&events.CmdRunAction{Command: "true"})); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("run after delete: %v", err)
	}
}

func TestDockerReconcile(t *testing.T) {
	ctx := context.Background()
	instance := testInstance + "-reconcile"
	known := startDocker(t, DockerOptions{InstanceID: instance})
	unknown := startDocker(t, DockerOptions{InstanceID: instance})
	stopped := startDocker(t, DockerOptions{InstanceID: instance})
	if err := stopped.Close(ctx); err != nil {
		t.Fatal(err)
	}
	other := startDocker(t, DockerOptions{}) // another instance's: untouched

	removed, err := testEngine(t).Reconcile(ctx, instance, func(id string) bool { return id == known.opts.ConversationID })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{unknown.opts.ConversationID, stopped.opts.ConversationID}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	if res, ok := inspect(t, known); !ok || res.Container.State.Running {
		t.Fatalf("known conversation: want its container stopped and kept (found %v)", ok)
	}
	for _, d := range []*Docker{unknown, stopped} {
		if _, ok := inspect(t, d); ok {
			t.Errorf("%s: container of an unknown conversation kept", d.name)
		}
		if _, err := os.Stat(d.opts.RunDir); !os.IsNotExist(err) {
			t.Errorf("%s: run directory kept: %v", d.name, err)
		}
	}
	if res, ok := inspect(t, other); !ok || !res.Container.State.Running {
		t.Error("Reconcile touched another instance's container")
	}
	// The kept conversation comes back.
	again := startDocker(t, DockerOptions{InstanceID: instance, ConversationID: known.opts.ConversationID})
	runCmd(t, again, "true", 10*time.Second)
}

// buildBadServer builds testdata/badserver, a static binary that logs and never answers.
func buildBadServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "badserver")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("testdata", "badserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build badserver: %v\n%s", err, out)
	}
	return bin
}

func TestDockerReadinessFailureShowsLogs(t *testing.T) {
	bad := buildBadServer(t)
	cases := []struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		{"exit", 30 * time.Second, []string{"exited with code 3", "badserver: cannot open the socket on purpose", "badserver: starting with [action-server"}},
		{"hang", time.Second, []string{"did not answer within 1s", "badserver: cannot open the socket on purpose"}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			d := newDockerRuntime(t, DockerOptions{Binary: bad, ReadyTimeout: tc.timeout,
				Env: map[string]string{"BADSERVER_MODE": tc.mode}})
			start := time.Now()
			err := d.Start(context.Background())
			if err == nil {
				t.Fatal("Start succeeded with a server that never answers")
			}
			t.Logf("readiness error:\n%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if took := time.Since(start); took > tc.timeout+10*time.Second {
				t.Errorf("failing took %s", took)
			}
		})
	}
}

func TestDockerCopiesBinaryWhenAsked(t *testing.T) {
	d := startDocker(t, DockerOptions{CopyBinary: true})
	if o := runCmd(t, d, "echo copied", 10*time.Second); strings.TrimSpace(o.Content) != "copied" {
		t.Fatalf("echo: %q", o.Content)
	}
	res, _ := inspect(t, d)
	for _, m := range res.Container.Mounts {
		if m.Destination == inContainerBinary {
			t.Fatalf("CopyBinary: the binary is bind-mounted: %+v", m)
		}
	}
}

func TestDockerRefusesForeignContainer(t *testing.T) {
	eng := testEngine(t)
	ctx := context.Background()
	conv := randomHex(16)
	res, err := eng.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   ContainerName(conv),
		Config: &container.Config{Image: testImage, Cmd: []string{"true"}, Labels: map[string]string{LabelInstance: testInstance}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.remove(context.Background(), res.ID) })
	d := newDockerRuntime(t, DockerOptions{ConversationID: conv})
	if err := d.Start(ctx); err == nil || !strings.Contains(err.Error(), "not made by gohands") {
		t.Fatalf("Start on a foreign container: %v", err)
	}
}

func TestDockerMissingImage(t *testing.T) {
	d := newDockerRuntime(t, DockerOptions{Image: "gohands-test-missing-image:none"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := d.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "gohands-test-missing-image:none") {
		t.Fatalf("Start with a missing image: %v", err)
	}
}

func TestDockerOptionChecks(t *testing.T) {
	// A dynamically linked executable: the test binary under the race detector, or the shell.
	dynamic := "/bin/sh"
	if exe, err := os.Executable(); err == nil && checkStaticELF(exe) != nil {
		dynamic = exe
	}
	if err := checkStaticELF(dynamic); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("dynamic binary %s: %v", dynamic, err)
	}
	script := filepath.Join(t.TempDir(), "gohands")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if err := checkStaticELF(script); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("script: %v", err)
	}
	if err := checkStaticELF(testBinary(t)); err != nil {
		t.Errorf("static gohands: %v", err)
	}
	long := "/tmp/" + strings.Repeat("x", 100)
	if err := checkSocketPath(long); err == nil || !strings.Contains(err.Error(), "shorter run directory") {
		t.Errorf("long run dir: %v", err)
	}
	remote := &DockerEngine{host: "tcp://127.0.0.1:2376"}
	if _, err := NewDocker(remote, DockerOptions{ConversationID: "abc", Image: "x", Binary: testBinary(t), RunDir: "/tmp/x"}); err == nil ||
		!strings.Contains(err.Error(), "remote") {
		t.Errorf("remote engine: %v", err)
	}
	if _, err := NewDocker(&DockerEngine{host: "unix:///var/run/docker.sock"}, DockerOptions{ConversationID: "../x", Image: "x"}); err == nil {
		t.Error("a conversation id with a slash was accepted")
	}
}

func TestDockerNoEngineSaysHowToStartOne(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "nothing.sock"))
	_, err := ConnectDocker(context.Background())
	if !errors.Is(err, ErrNoEngine) || !strings.Contains(err.Error(), "dockerd") || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Fatalf("ConnectDocker without an engine: %v", err)
	}
}

// TestDockerNoLeftovers runs after the other Docker tests of this package (Go runs tests in file
// and declaration order): every container they made must be gone.
func TestDockerNoLeftovers(t *testing.T) {
	testEngine(t)
	if err := checkNoDockerLeftovers(); err != nil {
		t.Fatal(err)
	}
}
