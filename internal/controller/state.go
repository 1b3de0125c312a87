package controller

import (
	"github.com/gohands/gohands/internal/events"
)

// errActionNotExecuted is OpenHands' answer to a tool call that was never run because the agent
// stopped or failed first: the tool call must not stay unanswered in the LLM's history.
const errActionNotExecuted = "The action has not been executed. This may have occurred because the user " +
	"pressed the stop button, or because the runtime system crashed and restarted due to resource " +
	"constraints. Any previously established system state, dependencies, or environment variables may " +
	"have been lost."

// setState is OpenHands' set_agent_state_to: side effects of the change, then the new state, then
// an agent_state_changed observation (with the last error as its reason when entering error).
func (c *Controller) setState(to events.AgentState) {
	from := c.stateNow()
	if to == from {
		return
	}
	if to != events.StateRunning {
		c.interruptStep(to)
	}
	if to == events.StateStopped || to == events.StateError {
		c.reset()
	}
	if from == events.StateError && to == events.StateRunning {
		c.limits.raise(c.cfg.Headless)
	}
	if to == events.StateUserConfirmed || to == events.StateUserRejected {
		c.answerConfirmation(from, to)
	}
	lastError := c.lastErrorNow()
	reason := ""
	if to == events.StateError {
		reason = lastError
	}
	c.log.Info("agent state changed", "from", from, "to", to, "reason", reason)
	c.append(events.NewObservation(&events.AgentStateChangedObservation{AgentState: to, Reason: reason}, ""),
		events.SourceEnvironment)
	// Visible to State and Wait once the stream holds the change: whoever waits for a state finds
	// its event there.
	c.publish(to, lastError)
	if from == events.StatePaused && to == events.StateRunning {
		// Resume: go on at once (a step the pause held back is applied then).
		c.wantStep = true
	}
}

// lastErrorNow reads the last error on the loop goroutine, its only writer.
func (c *Controller) lastErrorNow() string { return c.lastError }

// interruptStep deals with a step in flight when the agent leaves running. Stop and error cancel
// it and drop its result; any other state (pause) lets it finish and holds its action until the
// agent runs again, so that no LLM call is thrown away.
func (c *Controller) interruptStep(to events.AgentState) {
	if to != events.StateStopped && to != events.StateError {
		return
	}
	c.held = nil
	if c.step == nil {
		return
	}
	c.step.cancel()
	<-c.step.done // the agent must not be reset while it is stepping
	c.step = nil
}

// reset is OpenHands' _reset on stop and error: answer a pending tool call that was never
// executed, forget the pending action and drop what the agent had queued.
func (c *Controller) reset() {
	if p := c.pending; p != nil && p.ToolCallMetadata != nil && !c.answered(p.ToolCallMetadata) {
		id := p.ID
		obs := events.NewObservation(&events.ErrorObservation{ErrorID: events.ErrorIDActionNotExecuted}, errActionNotExecuted)
		obs.Cause = &id
		obs.ToolCallMetadata = p.ToolCallMetadata
		c.append(obs, events.SourceAgent)
	}
	c.pending = nil
	c.agent.Reset()
}

// answered reports whether some observation in the history answers the tool call.
func (c *Controller) answered(m *events.ToolCallMetadata) bool {
	for i := len(c.history) - 1; i >= 0; i-- {
		ev := c.history[i]
		if ev.Observation != nil && ev.ToolCallMetadata != nil &&
			ev.ToolCallMetadata.ToolCallID == m.ToolCallID && ev.ToolCallMetadata.FunctionName == m.FunctionName {
			return true
		}
	}
	return false
}

// answerConfirmation re-adds the action waiting for the user's confirmation with the user's answer
// and a new id (OpenHands does the same: the runtime ignored the waiting copy, and now runs the
// confirmed one or answers the rejected one with user_rejected).
func (c *Controller) answerConfirmation(from, to events.AgentState) {
	p := c.pending
	if p == nil || from != events.StateAwaitingUserConfirmation {
		return
	}
	verdict := events.ConfirmationConfirmed
	if to == events.StateUserRejected {
		verdict = events.ConfirmationRejected
	}
	var action events.Action
	switch a := p.Action.(type) {
	case *events.CmdRunAction:
		cp := *a
		cp.Thought, cp.ConfirmationState = "", verdict
		action = &cp
	case *events.IPythonRunCellAction:
		cp := *a
		cp.Thought, cp.ConfirmationState = "", verdict
		action = &cp
	default:
		return
	}
	ev := events.NewAction(action)
	ev.ToolCallMetadata, ev.LLMMetrics, ev.Timeout = p.ToolCallMetadata, p.LLMMetrics, p.Timeout
	if c.append(ev, events.SourceAgent) {
		c.pending = ev
	}
}
