package session_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm/llmtest"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// lifecycleOrder is the order a session's lifecycle may only move forward in.
var lifecycleOrder = []session.Lifecycle{session.Created, session.Initializing, session.RuntimeSetup,
	session.AgentSetup, session.MemorySetup, session.ControllerSetup, session.Ready, session.Running,
	session.Closing, session.Closed}

// watchLifecycle records every lifecycle value s shows until stop is called.
func watchLifecycle(s *session.Session) (stop func() []session.Lifecycle) {
	seen := []session.Lifecycle{s.Info().Lifecycle}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if l := s.Info().Lifecycle; seen[len(seen)-1] != l {
				seen = append(seen, l)
			}
			select {
			case <-done:
				return
			default:
				time.Sleep(50 * time.Microsecond)
			}
		}
	})
	return func() []session.Lifecycle {
		close(done)
		wg.Wait()
		return seen
	}
}

// checkForward fails unless seen only moves forward through order, ending with last (Error may
// follow any step before Ready).
func checkForward(t *testing.T, seen []session.Lifecycle, last session.Lifecycle) {
	t.Helper()
	pos := -1
	for i, l := range seen {
		if l == session.Error && i == len(seen)-1 && pos < slices.Index(lifecycleOrder, session.Ready) {
			break
		}
		p := slices.Index(lifecycleOrder, l)
		if p <= pos {
			t.Fatalf("lifecycle went %v: %s does not follow", seen, l)
		}
		pos = p
	}
	if seen[0] != session.Created || seen[len(seen)-1] != last {
		t.Fatalf("lifecycle went %v, want from created to %s", seen, last)
	}
}

// TestEventsOnlyLifecycle: an events-only session goes Created → Initializing → Ready, writing
// loading then awaiting_user_input; Close ends in Closed and is idempotent.
func TestEventsOnlyLifecycle(t *testing.T) {
	rec := newRecorder()
	s := newSession(t, newStore(t), "eventsonly", func(o *session.Options) { o.Emitter = rec })
	if in := s.Info(); in.Lifecycle != session.Created || in.AgentState != "" || in.Created.IsZero() {
		t.Fatalf("new session: %+v", in)
	}
	stop := watchLifecycle(s)
	s.Start(session.StartSpec{Settings: storage.NewSettings()})
	s.Start(session.StartSpec{}) // a second Start does nothing
	waitFor(t, 10*time.Second, "ready", func() bool { return s.Info().Lifecycle == session.Ready })
	waitFor(t, 10*time.Second, "awaiting_user_input", func() bool { return s.Stream().LatestID() == 1 })
	seen := stop()
	checkForward(t, seen, session.Ready)
	if slices.Contains(seen, session.RuntimeSetup) {
		t.Errorf("an events-only session set a runtime up: %v", seen)
	}
	var states []string
	for _, ev := range storedEvents(t, s) {
		o, ok := ev.Observation.(*events.AgentStateChangedObservation)
		if !ok || ev.Source != events.SourceEnvironment {
			t.Fatalf("unexpected event %d %s from %s", ev.ID, ev.Type(), ev.Source)
		}
		states = append(states, string(o.AgentState))
	}
	if want := []string{"loading", "awaiting_user_input"}; !slices.Equal(states, want) {
		t.Errorf("agent states %v, want %v", states, want)
	}
	if s.Sandbox() != nil {
		t.Error("an events-only session has a sandbox")
	}
	if _, ok := s.Microagents(); ok {
		t.Error("an events-only session reports its memory ready")
	}
	if err := s.Join(context.Background(), "c", -1); err != nil {
		t.Fatal(err)
	}
	if err := s.Dispatch(context.Background(), []byte(`{"action":"message","args":{"content":"hi"}}`)); err != nil {
		t.Fatalf("dispatch to a ready events-only session: %v", err)
	}

	ctx := context.Background()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if l := s.Info().Lifecycle; l != session.Closed {
		t.Errorf("lifecycle after Close: %s", l)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err := s.Dispatch(ctx, []byte(`{"action":"message","args":{"content":"late"}}`))
	if !errors.Is(err, session.ErrNotAccepted) || !strings.Contains(err.Error(), "closing") {
		t.Errorf("dispatch after Close: %v", err)
	}
}

// TestCloseBeforeStart: Close works on a session never started, and a later Start does nothing.
func TestCloseBeforeStart(t *testing.T) {
	s := newSession(t, newStore(t), "neverstarted", nil)
	ctx := context.Background()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.Start(session.StartSpec{Settings: storage.NewSettings()})
	time.Sleep(50 * time.Millisecond)
	if in := s.Info(); in.Lifecycle != session.Closed {
		t.Errorf("lifecycle %s after Close then Start", in.Lifecycle)
	}
	if _, err := s.Stream().Append(ctx, events.NewAction(&events.MessageAction{}), events.SourceUser); !errors.Is(err, events.ErrClosed) {
		t.Errorf("the session's own stream is still open after Close: %v", err)
	}
}

// TestDispatchRefusals: what a client sends must be one event without an id.
func TestDispatchRefusals(t *testing.T) {
	s := newSession(t, newStore(t), "dispatch", nil)
	ctx := context.Background()
	for _, data := range []string{
		`{"action":`,
		`[1]`,
		`"message"`,
		`{}`,
		`{"id":3,"action":"message","args":{"content":"x"}}`,
		`{"id":0,"action":"message","args":{"content":"x"}}`,
	} {
		if err := s.Dispatch(ctx, []byte(data)); !errors.Is(err, session.ErrNotAccepted) {
			t.Errorf("Dispatch(%s) = %v, want ErrNotAccepted", data, err)
		}
	}
	if n := s.Stream().LatestID(); n != -1 {
		t.Fatalf("refused events were stored: latest id %d", n)
	}
	// Accepted: the source and timestamp are the server's, image_urls is a list.
	if err := s.Dispatch(ctx, []byte(`{"action":"message","source":"agent","timestamp":"2020-01-01T00:00:00","args":{"content":"hi"}}`)); err != nil {
		t.Fatal(err)
	}
	evs := storedEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("%d events stored", len(evs))
	}
	m, ok := evs[0].Action.(*events.MessageAction)
	if !ok || m.Content != "hi" || m.ImageURLs == nil || evs[0].Source != events.SourceUser || strings.HasPrefix(evs[0].Timestamp, "2020") {
		t.Errorf("stored %+v %+v", evs[0], evs[0].Action)
	}
}

// TestStartFailure: a sandbox that cannot start ends the start in Error: the conversation records
// an agent_state_changed error naming what failed, the room gets an error status and an error
// payload, and client events are refused with the reason.
func TestStartFailure(t *testing.T) {
	rec := newRecorder()
	store := newStore(t)
	const id = "startfails"
	missing := t.TempDir() + "/no-such-gohands"
	s := newSession(t, store, id, func(o *session.Options) {
		o.EventsOnly, o.Emitter = false, rec
		o.Sandboxes = &session.Sandboxes{Kind: session.KindLocal, Config: o.Config, Store: store, Binary: missing}
	})
	if err := s.Join(context.Background(), "c", -1); err != nil {
		t.Fatal(err)
	}
	stop := watchLifecycle(s)
	st := storage.NewSettings()
	st.LLMModel, st.LLMAPIKey = strp("openai/gpt-4o"), strp("sk-test")
	s.Start(session.StartSpec{Settings: st})
	waitFor(t, 30*time.Second, "the start to fail", func() bool { return s.Info().Lifecycle == session.Error })
	// The error event is written after the payloads: wait for it to be forwarded.
	var stateEv payload
	waitFor(t, 10*time.Second, "the agent_state_changed error", func() bool {
		for _, d := range rec.Received("c") {
			if p := parse(t, d.Payload); p.Observation == "agent_state_changed" && p.Extras.AgentState == "error" {
				stateEv = p
				return true
			}
		}
		return false
	})
	checkForward(t, stop(), session.Error)

	in := s.Info()
	const prefix = "Failed to create agent session: could not start the sandbox: "
	if !strings.HasPrefix(in.LastError, prefix) || in.RuntimeStatus != session.StatusRuntimeDisconnected {
		t.Fatalf("info after a failed start: %+v", in)
	}
	if stateEv.Extras.Reason != in.LastError || stateEv.Source != "agent" {
		t.Errorf("agent_state_changed error forwarded from %s with reason %q, want %q", stateEv.Source, stateEv.Extras.Reason, in.LastError)
	}
	var sawStatus, sawError bool
	for _, raw := range rec.Room(id) {
		p := parse(t, raw)
		switch {
		case p.StatusUpdate && p.Type == "error":
			sawStatus = true
			if p.StatusID != session.StatusRuntimeDisconnected || p.Message != in.LastError || sawError {
				t.Errorf("error status %s", raw)
			}
		case p.Error:
			sawError = true
			if p.Message != in.LastError || !sawStatus {
				t.Errorf("error payload %s", raw)
			}
		}
	}
	if !sawStatus || !sawError {
		t.Errorf("the room did not get the error status and payload: status %v, error %v", sawStatus, sawError)
	}
	evs := storedEvents(t, s)
	last := evs[len(evs)-1]
	if o, ok := last.Observation.(*events.AgentStateChangedObservation); !ok || o.AgentState != events.StateError ||
		o.Reason != in.LastError || last.Source != events.SourceEnvironment {
		t.Errorf("last stored event %s %+v", last.Type(), last.Observation)
	}
	if sb := s.Sandbox(); sb != nil {
		if _, err := os.Stat(sb.RunDir()); !os.IsNotExist(err) {
			t.Errorf("the failed sandbox's run directory is left: %v", err)
		}
	}

	err := s.Dispatch(context.Background(), []byte(`{"action":"message","args":{"content":"hello?"}}`))
	if !errors.Is(err, session.ErrNotAccepted) || !strings.Contains(err.Error(), "could not start the sandbox") ||
		!strings.Contains(err.Error(), "start it again") {
		t.Errorf("dispatch to a failed session: %v", err)
	}
	ctx := context.Background()
	if err := s.Close(ctx); err != nil {
		t.Errorf("close a failed session: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("close it again: %v", err)
	}
}

// TestAgentLifecycle runs a real agent: a local sandbox and a scripted LLM. The lifecycle moves
// forward to Ready, the room is told the runtime's progress, a message makes the agent run and
// answer, and Close stops the sandbox.
func TestAgentLifecycle(t *testing.T) {
	bin := sandboxBinary(t)
	llm := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Reply("Hello there.")})
	rec := newRecorder()
	store := newStore(t)
	const id = "withagent"
	s := newSession(t, store, id, func(o *session.Options) {
		o.EventsOnly, o.Emitter = false, rec
		o.Sandboxes = &session.Sandboxes{Kind: session.KindLocal, Config: o.Config, Store: store, Binary: bin}
	})
	if err := s.Join(context.Background(), "c", -1); err != nil {
		t.Fatal(err)
	}
	stop := watchLifecycle(s)
	st := storage.NewSettings()
	st.LLMModel, st.LLMAPIKey, st.LLMBaseURL = strp("openai/gpt-4o"), strp("sk-test"), strp(llm.URL)
	s.Start(session.StartSpec{Settings: st})
	waitFor(t, 30*time.Second, "the agent to await the user", func() bool {
		in := s.Info()
		if in.Lifecycle == session.Error {
			t.Fatalf("the start failed: %s", in.LastError)
		}
		return in.AgentState == events.StateAwaitingUserInput
	})
	checkForward(t, stop(), session.Ready)
	in := s.Info()
	if in.RuntimeStatus != session.StatusReady {
		t.Errorf("runtime status %q", in.RuntimeStatus)
	}
	var statuses []string
	for _, raw := range rec.Room(id) {
		if p := parse(t, raw); p.StatusUpdate {
			statuses = append(statuses, p.Type+" "+p.StatusID)
		}
	}
	if want := []string{"info STATUS$STARTING_RUNTIME", "info STATUS$RUNTIME_STARTED", "info STATUS$READY"}; !slices.Equal(statuses, want) {
		t.Errorf("status payloads %v, want %v", statuses, want)
	}
	sb := s.Sandbox()
	ws, _ := store.WorkspaceDir(id)
	if sb == nil || sb.HostWorkspace != ws {
		t.Fatalf("sandbox %+v, want the workspace %s", sb, ws)
	}
	if agents, ok := s.Microagents(); !ok || len(agents) != 0 {
		t.Errorf("microagents %v ready %v", agents, ok)
	}

	if err := s.Dispatch(context.Background(), []byte(`{"action":"message","args":{"content":"Say hello"}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the agent's answer", func() bool {
		for _, d := range rec.Received("c") {
			if p := parse(t, d.Payload); p.Action == "message" && p.Source == "agent" && p.Args.Content == "Hello there." {
				return true
			}
		}
		return false
	})
	if l := s.Info().Lifecycle; l != session.Running {
		t.Errorf("lifecycle after the agent ran: %s", l)
	}
	if n := len(llm.Requests()); n != 1 {
		t.Errorf("the LLM was asked %d times", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sb.RunDir()); !os.IsNotExist(err) {
		t.Errorf("the sandbox's run directory outlived Close: %v", err)
	}
	if _, err := sb.Run(ctx, events.NewAction(&events.CmdRunAction{Command: "true"})); err == nil {
		t.Error("the sandbox still runs commands after Close")
	}
}
