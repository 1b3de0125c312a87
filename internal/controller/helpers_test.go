package controller

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage/eventlog"
)

func TestMain(m *testing.M) {
	// The llm package's provider SDKs start an opencensus worker at init; it is not ours.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

const waitLimit = 10 * time.Second

var quiet = slog.New(slog.DiscardHandler)

// openStream opens a real durable stream in dir (t.TempDir() when empty), closed at the end of
// the test, after everything registered later (controllers).
func openStream(t testing.TB, dir string, opts eventlog.Options) *events.Stream {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	opts.Logger = quiet
	log, err := eventlog.Open(filepath.Join(dir, "events.log"), opts)
	if err != nil {
		t.Fatal(err)
	}
	s := events.NewStream("conv1", log, events.StreamOptions{Logger: quiet})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// fakeRuntime answers runnable actions at once, as the sandbox runtime subscriber does: the
// observation has the action's id as cause, its tool-call metadata and its source. It honours
// confirmation states like OpenHands' runtime: an action waiting for confirmation gets no answer,
// a rejected one a user_rejected observation.
type fakeRuntime struct {
	stream *events.Stream
	// output is the text and exit code of a command (default: "ran <command>", 0).
	output func(cmd string) (string, int)
	// silent makes the runtime answer nothing (a command that never ends).
	silent bool

	// mu guards ran.
	mu  sync.Mutex
	ran []string
}

func startRuntime(t testing.TB, s *events.Stream) *fakeRuntime {
	t.Helper()
	r := &fakeRuntime{stream: s}
	if err := s.Subscribe(events.SubscriberRuntime, r.handle, s.LatestID()+1); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *fakeRuntime) handle(ev *events.Event) {
	if ev.Action == nil || r.silent {
		return
	}
	var obs *events.Event
	switch a := ev.Action.(type) {
	case *events.CmdRunAction:
		switch a.ConfirmationState {
		case events.ConfirmationAwaiting:
			return
		case events.ConfirmationRejected:
			obs = events.NewObservation(&events.UserRejectObservation{},
				"Action has been rejected by the user! Waiting for further user input.")
		default:
			r.mu.Lock()
			r.ran = append(r.ran, a.Command)
			r.mu.Unlock()
			out, code := "ran "+a.Command, 0
			if r.output != nil {
				out, code = r.output(a.Command)
			}
			md := events.DefaultCmdOutputMetadata()
			md.ExitCode, md.PID = code, len(r.ran)
			obs = events.NewObservation(&events.CmdOutputObservation{Command: a.Command, Metadata: md}, out)
		}
	case *events.FileEditAction:
		obs = events.NewObservation(&events.FileEditObservation{Path: a.Path, ImplSource: events.ImplSourceOHACI},
			"File created successfully at: "+a.Path)
	case *events.AgentThinkAction:
		obs = events.NewObservation(&events.AgentThinkObservation{}, "Your thought has been logged.")
	default:
		return
	}
	id := ev.ID
	obs.Cause, obs.ToolCallMetadata = &id, ev.ToolCallMetadata
	if _, err := r.stream.Append(context.Background(), obs, ev.Source); err != nil && err != events.ErrClosed {
		panic(err)
	}
}

func (r *fakeRuntime) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ran...)
}

// startMemory answers every recall as OpenHands' memory does when no microagent triggers: a null
// observation caused by the recall.
func startMemory(t testing.TB, s *events.Stream) {
	t.Helper()
	err := s.Subscribe(events.SubscriberMemory, func(ev *events.Event) {
		if _, ok := ev.Action.(*events.RecallAction); !ok {
			return
		}
		id := ev.ID
		obs := events.NewObservation(&events.NullObservation{}, "")
		obs.Cause = &id
		if _, err := s.Append(context.Background(), obs, events.SourceEnvironment); err != nil && err != events.ErrClosed {
			panic(err)
		}
	}, s.LatestID()+1)
	if err != nil {
		t.Fatal(err)
	}
}

// scripted is an agent whose steps are a function of the step number (from 1).
type scripted struct {
	fn func(ctx context.Context, n int, st *agent.State) (events.Action, *agent.StepInfo, error)

	// mu guards the fields below.
	mu     sync.Mutex
	steps  int
	resets int
	states []*agent.State
}

func (s *scripted) Name() string { return "ScriptedAgent" }

func (s *scripted) Step(ctx context.Context, st *agent.State) (events.Action, *agent.StepInfo, error) {
	s.mu.Lock()
	s.steps++
	n := s.steps
	s.states = append(s.states, st)
	s.mu.Unlock()
	return s.fn(ctx, n, st)
}

func (s *scripted) Reset() {
	s.mu.Lock()
	s.resets++
	s.mu.Unlock()
}

func (s *scripted) stepCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps
}

func (s *scripted) state(n int) *agent.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[n-1]
}

// withSystem adds a system message to an agent.
type withSystem struct {
	*scripted
	prompt string
}

func (w withSystem) SystemMessage() *events.SystemMessageAction {
	return &events.SystemMessageAction{Content: w.prompt, Tools: []events.RawJSON{}}
}

func toolCall(name string, n int) *agent.StepInfo {
	return &agent.StepInfo{ToolCallMetadata: &events.ToolCallMetadata{
		FunctionName:         name,
		ToolCallID:           fmt.Sprintf("call_%d", n),
		ModelResponse:        events.RawJSON(fmt.Sprintf(`{"id":"resp_%d"}`, n)),
		TotalCallsInResponse: 1,
	}}
}

func run(cmd string) events.Action {
	return &events.CmdRunAction{Command: cmd, ConfirmationState: events.ConfirmationConfirmed}
}

func finish() events.Action { return &events.AgentFinishAction{Outputs: events.RawJSON("{}")} }

// start makes and starts a controller closed at the end of the test.
func start(t testing.TB, s *events.Stream, ag agent.Agent, cfg Config) *Controller {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	c := New(s, ag, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return c
}

func appendEvent(t testing.TB, s *events.Stream, ev *events.Event, src events.Source) int64 {
	t.Helper()
	id, err := s.Append(context.Background(), ev, src)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func userSays(t testing.TB, s *events.Stream, text string) int64 {
	t.Helper()
	return appendEvent(t, s, events.NewAction(&events.MessageAction{Content: text}), events.SourceUser)
}

func userSets(t testing.TB, s *events.Stream, st events.AgentState) {
	t.Helper()
	appendEvent(t, s, events.NewAction(&events.ChangeAgentStateAction{AgentState: st}), events.SourceUser)
}

// waitState waits until the controller is in want.
func waitState(t testing.TB, c *Controller, want events.AgentState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	got, err := c.Wait(ctx, want)
	if err != nil || got != want {
		t.Fatalf("agent state = %s (%v), want %s; last error %q", got, err, want, c.LastError())
	}
}

// all returns every event of the stream.
func all(t testing.TB, s *events.Stream) []*events.Event {
	t.Helper()
	var evs []*events.Event
	for ev, err := range s.Search(context.Background(), events.All) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// waitFor polls the stream until some event satisfies pred.
func waitFor(t testing.TB, s *events.Stream, what string, pred func(*events.Event) bool) *events.Event {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		for _, ev := range all(t, s) {
			if pred(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the stream:\n%s", what, dump(t, s))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// dump lists the stream's events, one line each, for failure messages.
func dump(t testing.TB, s *events.Stream) string {
	var b strings.Builder
	for _, ev := range all(t, s) {
		fmt.Fprintf(&b, "%s\n", summary(ev))
	}
	return b.String()
}

// summary is "id source kind detail".
func summary(ev *events.Event) string {
	kind := "action:" + ev.Type()
	if ev.Observation != nil {
		kind = "observation:" + ev.Type()
	}
	detail := ev.Message()
	if o, ok := ev.Observation.(*events.AgentStateChangedObservation); ok {
		detail = string(o.AgentState)
	}
	if r, ok := ev.Action.(*events.RecallAction); ok {
		detail = r.RecallType
	}
	if len(detail) > 60 {
		detail = detail[:60]
	}
	return fmt.Sprintf("%d %s %s %s", ev.ID, ev.Source, kind, detail)
}

// kinds lists "source kind detail" of the events from id from on, for sequence checks.
func kinds(t testing.TB, s *events.Stream, from int64) []string {
	t.Helper()
	var out []string
	for _, ev := range all(t, s) {
		if ev.ID >= from {
			_, rest, _ := strings.Cut(summary(ev), " ")
			out = append(out, rest)
		}
	}
	return out
}

func ofType[T any](evs []*events.Event) []*events.Event {
	var out []*events.Event
	for _, ev := range evs {
		if _, ok := ev.Action.(T); ok {
			out = append(out, ev)
		} else if _, ok := ev.Observation.(T); ok {
			out = append(out, ev)
		}
	}
	return out
}
