package controller

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// stepRun is a step in flight on its own goroutine.
type stepRun struct {
	cancel context.CancelFunc
	done   chan stepResult // capacity 1: the goroutine never waits for the loop
}

// stepResult is what the agent's Step returned.
type stepResult struct {
	action events.Action
	info   *agent.StepInfo
	source events.Source
	err    error
}

// maybeStep starts a step when one was called for and OpenHands' _step would run: the agent is
// running, no action waits for its observation, and no step is in flight. It also waits until the
// controller has seen its own last event, so the agent always sees the history it produced.
func (c *Controller) maybeStep() {
	if !c.wantStep || c.step != nil || c.processed < c.waitFor {
		return
	}
	c.wantStep = false
	if c.stateNow() != events.StateRunning || c.pending != nil {
		return
	}
	if h := c.held; h != nil {
		// A step that finished during a pause; its limits were checked when it started.
		c.held = nil
		c.finishStep(*h)
		return
	}
	c.limits.cost = c.metricsNow().AccumulatedCost
	if p := c.stuck.check(); p != NotStuck {
		text := "AgentStuckInLoopError: Agent got stuck in a loop: " + p.String() + "."
		if !c.cfg.Headless {
			text += " Send a message with new instructions to continue."
		}
		c.fail(failure{text: text, status: StatusError})
		return
	}
	if err := c.limits.check(c.cfg.Headless); err != nil {
		c.fail(failure{text: "RuntimeError: " + err.Error(), status: StatusError})
		return
	}
	c.startStep()
}

// startStep runs the agent's Step on its own goroutine over a snapshot of the state.
func (c *Controller) startStep() {
	metrics := c.metricsNow()
	st := &agent.State{
		ConversationID: c.stream.ConversationID(),
		// The loop appends past the snapshot's length only; the agent must not modify it.
		History:       c.history[:len(c.history):len(c.history)],
		Iteration:     c.limits.iteration,
		MaxIterations: c.limits.maxIterations,
		Metrics:       &metrics,
		Extra:         c.extra,
	}
	ctx, cancel := context.WithCancel(c.ctx)
	run := &stepRun{cancel: cancel, done: make(chan stepResult, 1)}
	c.step = run
	c.steps.Add(1)
	go func() {
		defer c.steps.Done()
		defer cancel()
		run.done <- c.runAgent(ctx, st)
	}()
}

func (c *Controller) runAgent(ctx context.Context, st *agent.State) (res stepResult) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("agent panicked", "panic", r, "stack", string(debug.Stack()))
			res = stepResult{err: fmt.Errorf("the agent panicked: %v", r)}
		}
	}()
	res.action, res.info, res.err = c.agent.Step(ctx, st)
	res.source = events.SourceAgent
	if s, ok := c.agent.(stepSourcer); ok && res.err == nil {
		res.source = s.StepSource()
	}
	return res
}

// finishStep is the second half of OpenHands' _step: the agent's answer becomes an event.
func (c *Controller) finishStep(res stepResult) {
	if c.stateNow() != events.StateRunning {
		// Paused (or waiting for the user) while the agent was thinking: keep the action for when
		// the agent runs again. Stop and error never get here: they cancel the step.
		c.held = &res
		return
	}
	if res.err != nil {
		c.stepFailed(res.err)
		return
	}
	if res.action == nil {
		c.feedBack("No action was returned")
		return
	}
	if _, null := res.action.(*events.NullAction); null {
		return
	}
	ev := events.NewAction(res.action)
	if res.info != nil {
		ev.ToolCallMetadata, ev.Timeout = res.info.ToolCallMetadata, res.info.Timeout
	}
	if events.Runnable(res.action.ActionType()) {
		if c.cfg.ConfirmationMode {
			// Exactly run and run_ipython, as in OpenHands: the actions that execute code.
			switch a := res.action.(type) {
			case *events.CmdRunAction:
				a.ConfirmationState = events.ConfirmationAwaiting
			case *events.IPythonRunCellAction:
				a.ConfirmationState = events.ConfirmationAwaiting
			}
		}
		c.pending = ev
	}
	if awaitingConfirmation(res.action) {
		// Before the action, so that the state event has the lower id (as in OpenHands).
		c.setState(events.StateAwaitingUserConfirmation)
	}
	source := res.source
	if source == "" {
		source = events.SourceAgent
	}
	if source == events.SourceAgent {
		ev.LLMMetrics = c.frontendMetrics()
	}
	if !c.append(ev, source) && c.pending == ev {
		c.pending = nil
	}
}

func awaitingConfirmation(a events.Action) bool {
	switch a := a.(type) {
	case *events.CmdRunAction:
		return a.ConfirmationState == events.ConfirmationAwaiting
	case *events.IPythonRunCellAction:
		return a.ConfirmationState == events.ConfirmationAwaiting
	}
	return false
}

// stepFailed handles an error from the agent's Step.
func (c *Controller) stepFailed(err error) {
	var malformed *agent.MalformedActionError
	var notExists *agent.FunctionCallNotExistsError
	switch {
	case errors.As(err, &malformed), errors.As(err, &notExists):
		// The LLM's turn was bad, not the conversation: show the model its mistake and step again.
		c.feedBack(err.Error())
	case errors.Is(err, llm.ErrContextWindow) && !c.condensationRequested():
		c.append(events.NewAction(&events.CondensationRequestAction{}), events.SourceAgent)
	case errors.Is(err, context.Canceled) && c.ctx.Err() != nil:
		// closing
	default:
		c.log.Warn("agent step failed", "err", err)
		c.fail(classify(err, c.cfg.Headless))
	}
}

// feedBack adds an error observation the LLM sees at its next step; the observation calls for
// that step.
func (c *Controller) feedBack(text string) {
	c.append(events.NewObservation(&events.ErrorObservation{}, text), events.SourceAgent)
}

// condensationRequested reports whether the history already ends in a condensation request that
// no condensation followed: the context overflowed again without the history getting shorter, and
// asking once more would loop.
func (c *Controller) condensationRequested() bool {
	for i := len(c.history) - 1; i >= 0; i-- {
		switch c.history[i].Action.(type) {
		case *events.CondensationRequestAction:
			return true
		case *events.CondensationAction:
			return false
		}
	}
	return false
}

// fail is OpenHands' _react_to_exception: the error becomes last_error, the reason of the error
// state. gohands also adds it to the conversation as an error observation, so that the chat shows
// what happened where it happened.
func (c *Controller) fail(f failure) {
	c.mu.Lock()
	c.lastError = f.text
	c.mu.Unlock()
	c.feedBack(f.text)
	if c.cfg.OnError != nil {
		c.cfg.OnError(f.status, f.text)
	}
	c.setState(events.StateError)
}

// metricsNow is the conversation's accumulated LLM metrics: the agent LLM's and what observations
// brought.
func (c *Controller) metricsNow() events.Metrics {
	var m events.Metrics
	if c.cfg.Metrics != nil {
		m = c.cfg.Metrics()
	}
	if m.AccumulatedTokenUsage.Model == "" {
		m.AccumulatedTokenUsage.Model = "default"
	}
	mergeMetrics(&m, &c.obsMetrics)
	return m
}

// frontendMetrics is OpenHands' _prepare_metrics_for_frontend: accumulated cost and usage, the
// budget limit, and empty per-call lists (the UI needs no more, and they grow with every call).
func (c *Controller) frontendMetrics() *events.Metrics {
	m := c.metricsNow()
	usage := m.AccumulatedTokenUsage
	usage.ResponseID = ""
	return &events.Metrics{
		AccumulatedCost:       m.AccumulatedCost,
		MaxBudgetPerTask:      c.limits.budget(),
		AccumulatedTokenUsage: usage,
		Costs:                 []events.Cost{},
		ResponseLatencies:     []events.ResponseLatency{},
		TokenUsages:           []events.TokenUsage{},
	}
}
