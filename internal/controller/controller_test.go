package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/storage/eventlog"
)

// A new conversation goes as OpenHands' does: system message, user message, workspace recall,
// running, the agent's action with its tool call and metrics, the observation, finish; a follow-up
// message asks for knowledge and runs again.
func TestConversationSequence(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	timeout := 30.0
	ag := &scripted{fn: func(_ context.Context, n int, st *agent.State) (events.Action, *agent.StepInfo, error) {
		switch n {
		case 1:
			info := toolCall("execute_bash", n)
			info.Timeout = &timeout
			return &events.CmdRunAction{Command: "ls", Blocking: true, ConfirmationState: events.ConfirmationConfirmed}, info, nil
		default:
			return finish(), toolCall("finish", n), nil
		}
	}}
	cost := events.Metrics{AccumulatedCost: 0.25, AccumulatedTokenUsage: events.TokenUsage{Model: "default",
		PromptTokens: 100, CompletionTokens: 20, ResponseID: "resp_9"}, Costs: []events.Cost{{Model: "default", Cost: 0.25}}}
	c := start(t, s, withSystem{ag, "You are a test agent."}, Config{Metrics: func() events.Metrics { return cost }})
	if c.State() != events.StateLoading {
		t.Fatalf("initial state %s, want loading", c.State())
	}
	userSays(t, s, "list the files")
	waitState(t, c, events.StateFinished)

	want := []string{
		"agent action:system You are a test agent.",
		"user action:message list the files",
		"user action:recall workspace_context",
		"environment observation:agent_state_changed running",
		"environment observation:null No observation",
		"agent action:run Running command: ls",
		"agent observation:run Command `ls` executed with exit code 0.",
		"agent action:finish All done! What's next on the agenda?",
		"environment observation:agent_state_changed finished",
	}
	if got := kinds(t, s, 0); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := rt.commands(); len(got) != 1 || got[0] != "ls" {
		t.Errorf("runtime ran %v", got)
	}
	evs := all(t, s)
	runEv := evs[5]
	if runEv.ToolCallMetadata == nil || runEv.ToolCallMetadata.ToolCallID != "call_1" {
		t.Errorf("run action tool call = %+v", runEv.ToolCallMetadata)
	}
	if runEv.Timeout == nil || *runEv.Timeout != 30 || !runEv.Action.(*events.CmdRunAction).Blocking {
		t.Errorf("run action timeout = %v, blocking %v", runEv.Timeout, runEv.Action.(*events.CmdRunAction).Blocking)
	}
	m := runEv.LLMMetrics
	if m == nil || m.AccumulatedCost != 0.25 || m.MaxBudgetPerTask != nil || m.AccumulatedTokenUsage.PromptTokens != 100 ||
		m.AccumulatedTokenUsage.ResponseID != "" || m.Costs == nil || len(m.Costs) != 0 || m.TokenUsages == nil {
		t.Errorf("run action llm_metrics = %+v, want the minimal copy", m)
	}
	raw, _ := events.Marshal(runEv)
	if !strings.Contains(string(raw), `"costs":[],"response_latencies":[],"token_usages":[]`) {
		t.Errorf("llm_metrics lists are not written as empty arrays: %s", raw)
	}
	// The agent saw the observation of its command at step 2.
	if h := ag.state(2).History; h[len(h)-1].Observation == nil || h[len(h)-1].Type() != "run" {
		t.Errorf("step 2 history ends with %s, want the run observation", summary(h[len(h)-1]))
	}
	if st := ag.state(2); st.Iteration != 2 || st.MaxIterations != DefaultMaxIterations {
		t.Errorf("step 2 iteration %d of %d", st.Iteration, st.MaxIterations)
	}

	// A follow-up message recalls knowledge and runs again.
	next := userSays(t, s, "thanks")
	waitFor(t, s, "second finish", func(ev *events.Event) bool { return ev.ID > next && ev.Type() == "finish" })
	waitState(t, c, events.StateFinished)
	got := kinds(t, s, next)
	if len(got) < 3 || got[1] != "user action:recall knowledge" || got[2] != "environment observation:agent_state_changed running" {
		t.Fatalf("follow-up events:\n%s", strings.Join(got, "\n"))
	}
}

// An agent that calls the same tool with the same result forever is stopped by stuck detection.
func TestStuckIdenticalToolCall(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return run("ls -la"), toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{})
	userSays(t, s, "look around")
	waitState(t, c, events.StateError)

	if n := len(rt.commands()); n != 4 {
		t.Errorf("the command ran %d times, want 4 (the loop is seen on the 5th step)", n)
	}
	if ag.stepCount() != 4 {
		t.Errorf("agent stepped %d times, want 4", ag.stepCount())
	}
	reason := lastStateChange(t, s).Reason
	if !strings.HasPrefix(reason, "AgentStuckInLoopError: Agent got stuck in a loop") || !strings.Contains(reason, "4 times") {
		t.Errorf("error reason = %q", reason)
	}
	if c.LastError() != reason {
		t.Errorf("LastError() = %q, want the reason %q", c.LastError(), reason)
	}
	errs := ofType[*events.ErrorObservation](all(t, s))
	if len(errs) != 1 || errs[0].Content() != reason || errs[0].Source != events.SourceAgent {
		t.Errorf("error observations = %d, want one with the reason", len(errs))
	}
}

func lastStateChange(t testing.TB, s *events.Stream) *events.AgentStateChangedObservation {
	t.Helper()
	changes := ofType[*events.AgentStateChangedObservation](all(t, s))
	if len(changes) == 0 {
		t.Fatal("no agent_state_changed event")
	}
	return changes[len(changes)-1].Observation.(*events.AgentStateChangedObservation)
}

// Reaching max_iterations is an error naming the limit and how to raise it; in the web mode a new
// message raises it and the conversation goes on.
func TestMaxIterations(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		if n == 5 {
			return finish(), toolCall("finish", n), nil
		}
		return run(fmt.Sprintf("echo %d", n)), toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{MaxIterations: 3})
	userSays(t, s, "count")
	waitState(t, c, events.StateError)

	want := "RuntimeError: Agent reached maximum iteration. Current iteration: 3, max iteration: 3. " +
		"Raise max_iterations in config.toml [core] or send a message to continue."
	if got := lastStateChange(t, s).Reason; got != want {
		t.Fatalf("reason = %q\nwant %q", got, want)
	}
	if n := len(rt.commands()); n != 3 {
		t.Errorf("%d commands ran, want 3", n)
	}

	userSays(t, s, "go on")
	waitState(t, c, events.StateFinished)
	if ag.stepCount() != 5 {
		t.Errorf("agent stepped %d times, want 5 (the limit was raised to 6)", ag.stepCount())
	}
	if st := ag.state(5); st.MaxIterations != 6 {
		t.Errorf("max iterations after the message = %d, want 6", st.MaxIterations)
	}
}

func TestMaxIterationsHeadless(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return run(fmt.Sprintf("echo %d", n)), toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{MaxIterations: 2, Headless: true})
	userSays(t, s, "count")
	waitState(t, c, events.StateError)
	if got := c.LastError(); !strings.Contains(got, "max iteration: 2. Raise max_iterations in config.toml [core] (or pass --max-iterations) and run again.") {
		t.Fatalf("last error = %q", got)
	}
}

func TestMaxBudget(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	var mu sync.Mutex
	cost := 0.0
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		mu.Lock()
		cost += 0.75
		mu.Unlock()
		return run(fmt.Sprintf("echo %d", n)), toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{MaxBudgetPerTask: 1, Metrics: func() events.Metrics {
		mu.Lock()
		defer mu.Unlock()
		return events.Metrics{AccumulatedCost: cost}
	}})
	userSays(t, s, "spend")
	waitState(t, c, events.StateError)
	want := "RuntimeError: Agent reached maximum budget for conversation.Current budget: 1.50, max budget: 1.00. " +
		"Raise max_budget_per_task in config.toml [core] or send a message to continue."
	if got := c.LastError(); got != want {
		t.Fatalf("last error = %q\nwant %q", got, want)
	}
	runs := ofType[*events.CmdRunAction](all(t, s))
	if m := runs[0].LLMMetrics; m == nil || m.MaxBudgetPerTask == nil || *m.MaxBudgetPerTask != 1 {
		t.Errorf("llm_metrics of the first action = %+v, want max_budget_per_task 1", m)
	}
	// A message raises the budget to the current cost plus the configured amount.
	userSays(t, s, "go on")
	waitFor(t, s, "a third command", func(ev *events.Event) bool {
		a, ok := ev.Action.(*events.CmdRunAction)
		return ok && a.Command == "echo 3"
	})
}

// In confirmation mode a rejected command is not executed.
func TestConfirmationReject(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return &events.CmdRunAction{Command: "rm -rf /data", Thought: "cleaning up",
			ConfirmationState: events.ConfirmationConfirmed}, toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{ConfirmationMode: true})
	userSays(t, s, "clean up")
	waitState(t, c, events.StateAwaitingUserConfirmation)
	waitFor(t, s, "the action waiting for confirmation", func(ev *events.Event) bool { return ev.Type() == "run" })

	evs := all(t, s)
	runs := ofType[*events.CmdRunAction](evs)
	if len(runs) != 1 || runs[0].Action.(*events.CmdRunAction).ConfirmationState != events.ConfirmationAwaiting {
		t.Fatalf("run actions: %v", runs)
	}
	// The state event comes before the action waiting for confirmation.
	change := ofType[*events.AgentStateChangedObservation](evs)
	if last := change[len(change)-1]; last.ID > runs[0].ID {
		t.Errorf("awaiting_user_confirmation (id %d) came after the action (id %d)", last.ID, runs[0].ID)
	}

	userSets(t, s, events.StateUserRejected)
	waitState(t, c, events.StateAwaitingUserInput)
	if got := rt.commands(); len(got) != 0 {
		t.Fatalf("the runtime executed %v after the user rejected it", got)
	}
	evs = all(t, s)
	runs = ofType[*events.CmdRunAction](evs)
	if len(runs) != 2 {
		t.Fatalf("%d run actions, want the waiting one and its rejected copy", len(runs))
	}
	re := runs[1]
	a := re.Action.(*events.CmdRunAction)
	if a.ConfirmationState != events.ConfirmationRejected || a.Thought != "" || re.Source != events.SourceAgent ||
		re.ToolCallMetadata == nil || re.ToolCallMetadata.ToolCallID != "call_1" || re.ID == runs[0].ID {
		t.Errorf("re-added action: %+v %+v", re, a)
	}
	if rej := ofType[*events.UserRejectObservation](evs); len(rej) != 1 || *rej[0].Cause != re.ID {
		t.Errorf("user_rejected observations: %v", rej)
	}
	if ag.stepCount() != 1 {
		t.Errorf("agent stepped %d times after a rejection, want 1", ag.stepCount())
	}
}

func TestConfirmationConfirm(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		if n == 2 {
			return finish(), nil, nil
		}
		return run("make test"), toolCall("execute_bash", n), nil
	}}
	c := start(t, s, ag, Config{ConfirmationMode: true})
	userSays(t, s, "test it")
	waitState(t, c, events.StateAwaitingUserConfirmation)
	userSets(t, s, events.StateUserConfirmed)
	waitState(t, c, events.StateFinished)
	if got := rt.commands(); len(got) != 1 || got[0] != "make test" {
		t.Fatalf("runtime ran %v, want the confirmed command once", got)
	}
	var states []string
	for _, ev := range ofType[*events.AgentStateChangedObservation](all(t, s)) {
		states = append(states, string(ev.Observation.(*events.AgentStateChangedObservation).AgentState))
	}
	want := "running awaiting_user_confirmation user_confirmed running finished"
	if strings.Join(states, " ") != want {
		t.Errorf("states %v, want %s", states, want)
	}
}

// An LLM that refuses the API key puts the agent in error with a clear message; a new message
// resumes the conversation.
func TestLLMAuthenticationError(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		if n == 1 {
			return nil, nil, fmt.Errorf("LLM completion: complete with model openai/gpt-4o: 401 Unauthorized: %w", llm.ErrAuthentication)
		}
		return finish(), nil, nil
	}}
	var mu sync.Mutex
	var statuses []string
	c := start(t, s, ag, Config{OnError: func(id, msg string) {
		mu.Lock()
		statuses = append(statuses, id)
		mu.Unlock()
	}})
	userSays(t, s, "hello")
	waitState(t, c, events.StateError)

	reason := lastStateChange(t, s).Reason
	if !strings.HasPrefix(reason, "AuthenticationError: ") || !strings.Contains(reason, "401 Unauthorized") ||
		!strings.Contains(reason, "Check the LLM API key") {
		t.Errorf("reason = %q", reason)
	}
	errs := ofType[*events.ErrorObservation](all(t, s))
	if len(errs) != 1 || errs[0].Content() != reason {
		t.Errorf("error observations %v, want one the UI shows with the reason", errs)
	}
	mu.Lock()
	if len(statuses) != 1 || statuses[0] != StatusLLMAuthentication {
		t.Errorf("status ids %v", statuses)
	}
	mu.Unlock()

	userSays(t, s, "try again")
	waitState(t, c, events.StateFinished)
}

// A malformed tool call is shown to the LLM as an error observation and the agent steps again.
func TestMalformedToolCall(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	const bad = `Invalid JSON in the arguments of execute_bash: unexpected end of JSON input: {"command": "ls`
	var seen *events.Event
	ag := &scripted{fn: func(_ context.Context, n int, st *agent.State) (events.Action, *agent.StepInfo, error) {
		switch n {
		case 1:
			return nil, nil, &agent.MalformedActionError{Msg: bad}
		case 2:
			seen = st.History[len(st.History)-1]
			return nil, nil, fmt.Errorf("parse tool call: %w", &agent.FunctionCallNotExistsError{Msg: "Tool browse is not registered."})
		}
		return finish(), nil, nil
	}}
	c := start(t, s, ag, Config{})
	userSays(t, s, "list")
	waitState(t, c, events.StateFinished)
	if seen == nil || seen.Content() != bad || seen.Source != events.SourceAgent || seen.Type() != "error" {
		t.Fatalf("step 2 saw %v, want the error observation", seen)
	}
	for _, ev := range ofType[*events.AgentStateChangedObservation](all(t, s)) {
		if ev.Observation.(*events.AgentStateChangedObservation).AgentState == events.StateError {
			t.Fatal("a malformed tool call put the agent in error")
		}
	}
	if n := len(ofType[*events.ErrorObservation](all(t, s))); n != 2 {
		t.Errorf("%d error observations, want 2", n)
	}
}

// A context-window overflow asks for a condensation; a second one without a condensation between
// is an error, not a loop.
func TestContextWindow(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return nil, nil, fmt.Errorf("LLM completion: %w", llm.ErrContextWindow)
	}}
	c := start(t, s, ag, Config{})
	userSays(t, s, "summarize the repo")
	waitState(t, c, events.StateError)
	reqs := ofType[*events.CondensationRequestAction](all(t, s))
	if len(reqs) != 1 || reqs[0].Source != events.SourceAgent {
		t.Fatalf("condensation requests: %v", reqs)
	}
	if !strings.HasPrefix(c.LastError(), "LLMContextWindowExceedError: ") {
		t.Errorf("last error = %q", c.LastError())
	}
}

// blocking is an agent whose steps wait for release (or cancellation).
type blocking struct {
	*scripted
	entered chan int
	release chan struct{}
}

func newBlocking(fn func(n int) (events.Action, *agent.StepInfo)) *blocking {
	b := &blocking{entered: make(chan int, 16), release: make(chan struct{}, 16)}
	b.scripted = &scripted{fn: func(ctx context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		b.entered <- n
		select {
		case <-b.release:
			a, info := fn(n)
			return a, info, nil
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}}
	return b
}

func (b *blocking) waitEntered(t *testing.T, want int) {
	t.Helper()
	if n := <-b.entered; n != want {
		t.Fatalf("step %d started, want %d", n, want)
	}
}

// Pause while the agent thinks holds its action until resume; stop cancels the step in flight.
func TestPauseResumeStop(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	startMemory(t, s)
	ag := newBlocking(func(n int) (events.Action, *agent.StepInfo) {
		return run(fmt.Sprintf("step %d", n)), toolCall("execute_bash", n)
	})
	c := start(t, s, ag, Config{})
	userSays(t, s, "work")
	ag.waitEntered(t, 1)

	stepped := make(chan struct{}, 1)
	c.afterStep = func() { stepped <- struct{}{} }
	userSets(t, s, events.StatePaused)
	waitState(t, c, events.StatePaused)
	ag.release <- struct{}{}
	<-stepped
	if runs := ofType[*events.CmdRunAction](all(t, s)); len(runs) != 0 {
		t.Fatalf("an action was added while paused: %v", runs)
	}
	userSets(t, s, events.StateRunning)
	waitFor(t, s, "the held action", func(ev *events.Event) bool { return ev.Type() == "run" && ev.Action != nil })
	ag.waitEntered(t, 2)
	if got := rt.commands(); len(got) != 1 || got[0] != "step 1" {
		t.Errorf("runtime ran %v", got)
	}

	userSets(t, s, events.StateStopped)
	waitState(t, c, events.StateStopped)
	if ag.stepCount() != 2 {
		t.Errorf("agent stepped %d times", ag.stepCount())
	}
	ag.mu.Lock()
	resets := ag.resets
	ag.mu.Unlock()
	if resets == 0 {
		t.Error("stop did not reset the agent")
	}
}

// Stopping while an action is running answers its tool call with "not executed".
func TestStopAnswersPendingToolCall(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	rt := startRuntime(t, s)
	rt.silent = true
	startMemory(t, s)
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return run("sleep 1000"), toolCall("execute_bash", n), nil
	}}
	c := New(s, ag, Config{Logger: quiet})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	userSays(t, s, "wait")
	action := waitFor(t, s, "the run action", func(ev *events.Event) bool { return ev.Type() == "run" })
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.State() != events.StateStopped {
		t.Fatalf("state after Close = %s", c.State())
	}
	errs := ofType[*events.ErrorObservation](all(t, s))
	if len(errs) != 1 {
		t.Fatalf("error observations: %v\n%s", errs, dump(t, s))
	}
	e := errs[0]
	if *e.Cause != action.ID || e.ToolCallMetadata == nil || e.ToolCallMetadata.ToolCallID != "call_1" ||
		e.Observation.(*events.ErrorObservation).ErrorID != events.ErrorIDActionNotExecuted ||
		!strings.HasPrefix(e.Content(), "The action has not been executed.") {
		t.Errorf("not-executed observation: %s %+v", summary(e), e.Observation)
	}
	if st := lastStateChange(t, s); st.AgentState != events.StateStopped {
		t.Errorf("last state event %s, want stopped", st.AgentState)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if st, err := c.Wait(ctx); err != nil || st != events.StateStopped {
		t.Errorf("Wait after Close = %s, %v", st, err)
	}
}

// A resumed conversation gets its history back from the stream, and no second system message.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	s := openStream(t, dir, eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	first := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		if n == 3 {
			return finish(), nil, nil
		}
		return run(fmt.Sprintf("echo %d", n)), toolCall("execute_bash", n), nil
	}}
	c1 := New(s, withSystem{first, "sys"}, Config{Logger: quiet})
	if err := c1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	userSays(t, s, "first task")
	waitState(t, c1, events.StateFinished)
	if err := c1.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := len(all(t, s))

	second := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		return finish(), nil, nil
	}}
	c2 := start(t, s, withSystem{second, "sys"}, Config{})
	if got := len(all(t, s)); got != before {
		t.Fatalf("starting on a resumed conversation added %d events", got-before)
	}
	userSays(t, s, "second task")
	waitState(t, c2, events.StateFinished)
	st := second.state(1)
	if n := len(ofType[*events.SystemMessageAction](st.History)); n != 1 {
		t.Errorf("%d system messages in the resumed history", n)
	}
	if msgs := ofType[*events.MessageAction](st.History); len(msgs) != 2 {
		t.Errorf("resumed history has %d messages, want both user messages", len(msgs))
	}
	if st.Iteration != 4 {
		t.Errorf("iteration after resume = %d, want 4 (3 steps before)", st.Iteration)
	}
	recalls := ofType[*events.RecallAction](all(t, s))
	if k := recalls[len(recalls)-1].Action.(*events.RecallAction).RecallType; k != events.RecallKnowledge {
		t.Errorf("recall after resume = %s, want knowledge", k)
	}
}

func TestStartAfterClose(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	c := New(s, &scripted{}, Config{Logger: quiet})
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait on a closed controller = %v", err)
	}
}

// A panicking agent is an error the user sees, not a crash.
func TestAgentPanic(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startMemory(t, s)
	ag := &scripted{fn: func(context.Context, int, *agent.State) (events.Action, *agent.StepInfo, error) {
		panic("index out of range")
	}}
	c := start(t, s, ag, Config{})
	userSays(t, s, "go")
	waitState(t, c, events.StateError)
	if !strings.Contains(c.LastError(), "the agent panicked: index out of range") {
		t.Errorf("last error = %q", c.LastError())
	}
}

// Close while the agent is thinking cancels the step and waits for it.
func TestCloseDuringStep(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startMemory(t, s)
	ag := newBlocking(func(n int) (events.Action, *agent.StepInfo) { return finish(), nil })
	c := New(s, ag, Config{Logger: quiet})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	userSays(t, s, "think hard")
	ag.waitEntered(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c.State() != events.StateStopped {
		t.Fatalf("state = %s", c.State())
	}
	if n := len(ofType[*events.AgentFinishAction](all(t, s))); n != 0 {
		t.Errorf("a cancelled step added %d actions", n)
	}
}

// gohands runs one agent per conversation: a delegation is answered with an error the agent sees.
func TestDelegateRefused(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startMemory(t, s)
	var seen *events.Event
	ag := &scripted{fn: func(_ context.Context, n int, st *agent.State) (events.Action, *agent.StepInfo, error) {
		if n == 1 {
			return &events.AgentDelegateAction{Agent: "BrowsingAgent", Inputs: events.RawJSON(`{"task":"browse"}`)},
				toolCall("delegate", n), nil
		}
		seen = st.History[len(st.History)-1]
		return finish(), nil, nil
	}}
	c := start(t, s, ag, Config{})
	userSays(t, s, "find it online")
	waitState(t, c, events.StateFinished)
	if seen == nil || seen.Type() != "error" || seen.Cause == nil || seen.ToolCallMetadata == nil ||
		!strings.Contains(seen.Content(), "BrowsingAgent") {
		t.Fatalf("step 2 saw %v, want the refusal of the delegation", seen)
	}
	if ag.stepCount() != 2 {
		t.Errorf("agent stepped %d times, want 2", ag.stepCount())
	}
}
