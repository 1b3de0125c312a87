package memory

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage/eventlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a conversation with a global microagents directory, a workspace, a stream and a
// Memory on it.
type fixture struct {
	t         *testing.T
	global    string
	workspace string
	stream    *events.Stream
	mem       *Memory

	mu      sync.Mutex
	cond    *sync.Cond
	answers map[int64]*events.Event // observations by cause
}

var (
	globalFiles = map[string]string{
		"github.md":       "---\nname: github\ntriggers: [GitHub, git]\n---\nUse the GitHub API.",
		"tools/docker.md": "---\ntriggers: [docker, container]\n---\nDocker knowledge.",
		"npm.md":          "---\ntriggers: [npm]\n---\nGlobal npm knowledge.",
		"README.md":       "This directory holds microagents.",
	}
	workspaceFiles = map[string]string{
		".openhands/microagents/repo.md":   "---\nname: repo\n---\nRun make test before committing.\n",
		".openhands/microagents/npm.md":    "---\ntriggers: [npm, yarn]\n---\nWorkspace npm knowledge.",
		".openhands/microagents/broken.md": "---\ntriggers: git\n---\nbroken",
		"AGENTS.md":                        "\n# Agents\nKeep functions short.\n",
	}
)

// newFixture starts a Memory on globalFiles and workspaceFiles plus extra workspace files.
func newFixture(t *testing.T, opts Options, extra map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, global: t.TempDir(), workspace: t.TempDir(), answers: map[int64]*events.Event{}}
	f.cond = sync.NewCond(&f.mu)
	writeFiles(t, f.global, globalFiles)
	writeFiles(t, f.workspace, workspaceFiles)
	writeFiles(t, f.workspace, extra)
	log, err := eventlog.Open(filepath.Join(t.TempDir(), "events.log"), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.stream = events.NewStream("c1", log, events.StreamOptions{})
	t.Cleanup(func() {
		if err := f.stream.Close(); err != nil {
			t.Error(err)
		}
	})
	err = f.stream.Subscribe(events.SubscriberTest, func(ev *events.Event) {
		if ev.Observation != nil && ev.Cause != nil {
			f.mu.Lock()
			f.answers[*ev.Cause] = ev
			f.cond.Broadcast()
			f.mu.Unlock()
		}
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts.GlobalDir = f.global
	opts.Workspace = DirWorkspace(f.workspace)
	if opts.WorkingDir == "" {
		opts.WorkingDir = "/workspace"
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2025, 8, 1, 23, 30, 0, 0, time.FixedZone("x", -3*3600)) }
	}
	f.mem = New(f.stream, opts)
	if err := f.mem.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.mem.Close)
	return f
}

// recall appends a recall action and returns its answer.
func (f *fixture) recall(recallType, query string, source events.Source) *events.Event {
	f.t.Helper()
	id, err := f.stream.Append(context.Background(),
		events.NewAction(&events.RecallAction{RecallType: recallType, Query: query}), source)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.answer(id)
}

// answer waits for the observation caused by id.
func (f *fixture) answer(id int64) *events.Event {
	f.t.Helper()
	timer := time.AfterFunc(5*time.Second, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(5 * time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.answers[id] == nil {
		if time.Now().After(deadline) {
			f.t.Fatalf("recall %d was not answered", id)
		}
		f.cond.Wait()
	}
	ev := f.answers[id]
	if ev.Source != events.SourceEnvironment {
		f.t.Errorf("answer to %d has source %q, want environment", id, ev.Source)
	}
	return ev
}

func recallObs(t *testing.T, ev *events.Event) *events.RecallObservation {
	t.Helper()
	obs, ok := ev.Observation.(*events.RecallObservation)
	if !ok {
		t.Fatalf("answer is %s, want a recall observation", ev.Type())
	}
	return obs
}

func names(knowledge []events.MicroagentKnowledge) []string {
	out := []string{}
	for _, k := range knowledge {
		out = append(out, k.Name+"/"+k.Trigger)
	}
	return out
}

func TestMicroagentsLoaded(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	// A broken file is named in the log and skipped; it does not stop the others.
	if !strings.Contains(logs.String(), "/workspace/.openhands/microagents/broken.md") {
		t.Errorf("the log does not name the broken microagent:\n%s", logs.String())
	}
	var got []string
	for _, a := range f.mem.Microagents() {
		got = append(got, a.Name+" "+string(a.Type)+" "+strings.Join(a.Triggers, ",")+" "+a.Source)
	}
	want := []string{
		"github knowledge GitHub,git " + filepath.Join(f.global, "github.md"),
		// The workspace's npm replaces the global one, in the global one's place.
		"npm knowledge npm,yarn /workspace/.openhands/microagents/npm.md",
		"tools/docker knowledge docker,container " + filepath.Join(f.global, "tools/docker.md"),
		"repo repo  /workspace/.openhands/microagents/repo.md",
		"agents_md repo  /workspace/AGENTS.md",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("microagents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWorkspaceContext(t *testing.T) {
	f := newFixture(t, Options{
		RepoName:                  "acme/api",
		RuntimeHosts:              map[string]int{"http://localhost:50001": 50001},
		CustomSecretsDescriptions: map[string]string{"STRIPE_KEY": "test key"},
		ConversationInstructions:  "Be brief.",
	}, map[string]string{
		// With a repository selected, the workspace's microagents come from its directory.
		"api/.openhands/microagents/repo.md": "API rules.",
		"api/AGENTS.md":                      "API agents.",
	})

	ev := f.recall(events.RecallWorkspaceContext, "Push the Docker image to GitHub", events.SourceUser)
	obs := recallObs(t, ev)
	want := &events.RecallObservation{
		Content:                   contentWorkspaceContext,
		RecallType:                events.RecallWorkspaceContext,
		RepoName:                  "acme/api",
		RepoDirectory:             "api",
		RepoInstructions:          "API rules.\n\nAPI agents.",
		RuntimeHosts:              map[string]int{"http://localhost:50001": 50001},
		Date:                      "2025-08-02", // the UTC date
		CustomSecretsDescriptions: map[string]string{"STRIPE_KEY": "test key"},
		ConversationInstructions:  "Be brief.",
		WorkingDir:                "/workspace",
		MicroagentKnowledge: []events.MicroagentKnowledge{
			{Name: "github", Trigger: "GitHub", Content: "Use the GitHub API."},
			{Name: "tools/docker", Trigger: "docker", Content: "Docker knowledge."},
		},
	}
	if !reflect.DeepEqual(obs, want) {
		t.Errorf("got  %#v\nwant %#v", obs, want)
	}
}

func TestRecallSequence(t *testing.T) {
	f := newFixture(t, Options{}, nil)

	ev := f.recall(events.RecallWorkspaceContext, "Fix the git hooks", events.SourceUser)
	obs := recallObs(t, ev)
	if ev.Content() != "Added workspace context" || ev.Message() != "Added workspace context" {
		t.Errorf("content %q, message %q", ev.Content(), ev.Message())
	}
	if want := "Run make test before committing.\n\n# Agents\nKeep functions short."; obs.RepoInstructions != want {
		t.Errorf("repo_instructions %q, want %q", obs.RepoInstructions, want)
	}
	if obs.Date != "2025-08-02" || obs.WorkingDir != "/workspace" || obs.RepoName != "" || obs.RepoDirectory != "" {
		t.Errorf("date %q, working_dir %q, repo %q %q", obs.Date, obs.WorkingDir, obs.RepoName, obs.RepoDirectory)
	}
	if got := names(obs.MicroagentKnowledge); !reflect.DeepEqual(got, []string{"github/git"}) {
		t.Errorf("knowledge %v", got)
	}
	raw, err := events.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"runtime_hosts":{}`, `"custom_secrets_descriptions":{}`, `"date":"2025-08-02"`} {
		if !strings.Contains(string(raw), part) {
			t.Errorf("%s lacks %s", raw, part)
		}
	}

	// A new trigger brings only the new microagent.
	ev = f.recall(events.RecallKnowledge, "Use YARN in a container, then push to github", events.SourceUser)
	obs = recallObs(t, ev)
	if ev.Content() != "Retrieved knowledge from microagents" || obs.RecallType != events.RecallKnowledge {
		t.Errorf("content %q, recall_type %q", ev.Content(), obs.RecallType)
	}
	if got := names(obs.MicroagentKnowledge); !reflect.DeepEqual(got, []string{"npm/yarn", "tools/docker/container"}) {
		t.Errorf("knowledge %v", got)
	}
	if obs.RepoInstructions != "" || obs.Date != "" || obs.WorkingDir != "" {
		t.Errorf("a knowledge recall carries workspace context: %+v", obs)
	}

	// Nothing new: a null observation, still caused by the recall.
	id, err := f.stream.Append(context.Background(),
		events.NewAction(&events.RecallAction{RecallType: events.RecallKnowledge, Query: "git, docker and npm"}),
		events.SourceAgent)
	if err != nil {
		t.Fatal(err)
	}
	ev = f.answer(id)
	if _, ok := ev.Observation.(*events.NullObservation); !ok || *ev.Cause != id || ev.Content() != "" {
		t.Errorf("answer %s cause %d content %q, want null caused by %d", ev.Type(), *ev.Cause, ev.Content(), id)
	}
}

func TestRecallAnsweredWithNull(t *testing.T) {
	f := newFixture(t, Options{}, nil)
	tests := []struct {
		name       string
		recallType string
		query      string
		source     events.Source
	}{
		{"workspace context from the agent", events.RecallWorkspaceContext, "git", events.SourceAgent},
		{"workspace context from the environment", events.RecallWorkspaceContext, "git", events.SourceEnvironment},
		{"knowledge from the environment", events.RecallKnowledge, "git", events.SourceEnvironment},
		{"empty query", events.RecallKnowledge, "", events.SourceUser},
		{"no trigger", events.RecallKnowledge, "hello", events.SourceUser},
		{"unknown recall type", "everything", "git", events.SourceUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := f.recall(tt.recallType, tt.query, tt.source)
			if _, ok := ev.Observation.(*events.NullObservation); !ok {
				t.Errorf("answer is %s, want null", ev.Type())
			}
		})
	}
	// None of them counted as recalled.
	ev := f.recall(events.RecallKnowledge, "git", events.SourceUser)
	if got := names(recallObs(t, ev).MicroagentKnowledge); !reflect.DeepEqual(got, []string{"github/git"}) {
		t.Errorf("knowledge %v", got)
	}
}

func TestDisabledMicroagents(t *testing.T) {
	f := newFixture(t, Options{DisabledMicroagents: []string{"github", "agents_md"}}, nil)
	for _, a := range f.mem.Microagents() {
		if a.Name == "github" || a.Name == "agents_md" {
			t.Errorf("disabled microagent %s loaded", a.Name)
		}
	}
	obs := recallObs(t, f.recall(events.RecallWorkspaceContext, "git and docker", events.SourceUser))
	if got := names(obs.MicroagentKnowledge); !reflect.DeepEqual(got, []string{"tools/docker/docker"}) {
		t.Errorf("knowledge %v", got)
	}
	if obs.RepoInstructions != "Run make test before committing." {
		t.Errorf("repo_instructions %q", obs.RepoInstructions)
	}
}

// A resumed conversation does not resend knowledge its stream already holds.
func TestResumeRemembersRecalled(t *testing.T) {
	f := newFixture(t, Options{}, nil)
	f.recall(events.RecallWorkspaceContext, "docker", events.SourceUser)
	f.mem.Close()

	again := New(f.stream, f.mem.opts)
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ev := f.recall(events.RecallKnowledge, "docker and git", events.SourceUser)
	if got := names(recallObs(t, ev).MicroagentKnowledge); !reflect.DeepEqual(got, []string{"github/git"}) {
		t.Errorf("knowledge %v", got)
	}
}

func TestLegacyInstructionsAndNoGlobalDir(t *testing.T) {
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{".openhands_instructions": "Legacy rules.\n"})
	log, err := eventlog.Open(filepath.Join(t.TempDir(), "events.log"), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stream := events.NewStream("c2", log, events.StreamOptions{})
	defer stream.Close()
	m := New(stream, Options{Workspace: DirWorkspace(ws), WorkingDir: "/workspace"})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := m.Microagents()
	if len(got) != 1 || got[0].Name != "repo_legacy" || got[0].Type != TypeRepo || got[0].Content != "Legacy rules.\n" ||
		got[0].Source != "/workspace/.openhands_instructions" {
		t.Errorf("microagents %+v", got)
	}
	if err := m.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
}
