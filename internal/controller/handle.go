package controller

import (
	"slices"

	"github.com/gohands/gohands/internal/events"
)

// onEvent handles one event of the stream, as OpenHands' _on_event does: into the history, then
// its effect on the state, then whether it calls for a step.
func (c *Controller) onEvent(ev *events.Event) {
	c.processed = ev.ID
	if ev.Hidden() {
		return
	}
	if inHistory(ev) {
		c.addHistory(ev)
	}
	if ev.Action != nil {
		c.handleAction(ev)
	} else {
		c.handleObservation(ev)
	}
	if c.shouldStep(ev) {
		c.wantStep = true
	}
}

// inHistory is OpenHands' agent history filter: no null events and no agent-state bookkeeping.
func inHistory(ev *events.Event) bool {
	switch ev.Action.(type) {
	case *events.NullAction, *events.ChangeAgentStateAction:
		return false
	}
	switch ev.Observation.(type) {
	case *events.NullObservation, *events.AgentStateChangedObservation:
		return false
	}
	return !ev.Hidden()
}

func (c *Controller) addHistory(ev *events.Event) {
	c.history = append(c.history, ev)
	c.stuck.add(ev)
}

func (c *Controller) handleAction(ev *events.Event) {
	switch a := ev.Action.(type) {
	case *events.ChangeAgentStateAction:
		if !slices.Contains(events.AgentStates, a.AgentState) {
			c.log.Warn("agent controller ignores a change to an unknown state", "state", a.AgentState, "event_id", ev.ID)
			return
		}
		c.setState(a.AgentState)
	case *events.MessageAction:
		switch ev.Source {
		case events.SourceUser:
			c.onUserMessage(ev, a)
		case events.SourceAgent:
			if a.WaitForResponse {
				c.setState(events.StateAwaitingUserInput)
			}
		}
	case *events.AgentFinishAction:
		c.setState(events.StateFinished)
	case *events.AgentRejectAction:
		c.setState(events.StateRejected)
	case *events.AgentDelegateAction:
		if ev.Source == events.SourceAgent {
			c.refuseDelegate(ev, a)
		}
	}
}

// onUserMessage asks memory for what the message calls for (workspace context for the first
// message, microagent knowledge for the others) and waits for the answer before stepping.
func (c *Controller) onUserMessage(ev *events.Event, m *events.MessageAction) {
	if c.firstUserMsg < 0 {
		c.firstUserMsg = ev.ID
	}
	kind := events.RecallKnowledge
	if ev.ID == c.firstUserMsg {
		kind = events.RecallWorkspaceContext
	}
	recall := events.NewAction(&events.RecallAction{RecallType: kind, Query: m.Content})
	// Source user: the user's message is what triggers the recall (as in OpenHands).
	if c.append(recall, events.SourceUser) {
		c.pending = recall
	}
	if c.stateNow() != events.StateRunning {
		c.setState(events.StateRunning)
	}
}

// refuseDelegate answers a delegate action: gohands runs one agent per conversation, so the agent
// is told, through the tool call, to do the work itself.
func (c *Controller) refuseDelegate(ev *events.Event, a *events.AgentDelegateAction) {
	id := ev.ID
	obs := events.NewObservation(&events.ErrorObservation{},
		"Delegating to another agent ("+a.Agent+") is not supported here; continue the task yourself.")
	obs.Cause = &id
	obs.ToolCallMetadata = ev.ToolCallMetadata
	c.append(obs, events.SourceAgent)
}

func (c *Controller) handleObservation(ev *events.Event) {
	if ev.LLMMetrics != nil {
		mergeMetrics(&c.obsMetrics, ev.LLMMetrics)
	}
	if c.pending == nil || ev.Cause == nil || *ev.Cause != c.pending.ID {
		return
	}
	switch c.stateNow() {
	case events.StateAwaitingUserConfirmation:
		// The runtime's answer to an action that waits for the user; keep waiting.
		return
	case events.StateUserConfirmed:
		c.pending = nil
		c.setState(events.StateRunning)
	case events.StateUserRejected:
		c.pending = nil
		c.setState(events.StateAwaitingUserInput)
	default:
		c.pending = nil
	}
}

// shouldStep is OpenHands' should_step: user messages, agent messages that do not wait for the
// user, condensation, and every real observation call for a step (an error observation too, so a
// bad tool call is retried at once). _step itself then checks the state and the pending action.
func (c *Controller) shouldStep(ev *events.Event) bool {
	if ev.Action != nil {
		switch ev.Action.(type) {
		case *events.MessageAction:
			return ev.Source == events.SourceUser || c.stateNow() != events.StateAwaitingUserInput
		case *events.AgentDelegateAction, *events.CondensationAction, *events.CondensationRequestAction:
			return true
		}
		return false
	}
	switch ev.Observation.(type) {
	case *events.NullObservation:
		// memory found nothing for a recall: the step it held back may go
		return ev.Cause != nil && *ev.Cause > 0
	case *events.AgentStateChangedObservation:
		return false
	}
	return true
}

// stateNow reads the state on the loop goroutine: the only goroutine that writes it, so it needs
// no lock.
func (c *Controller) stateNow() events.AgentState { return c.state }

// mergeMetrics adds an observation's metrics (the LLM-based draft editor's) to the conversation's.
func mergeMetrics(into *events.Metrics, m *events.Metrics) {
	into.AccumulatedCost += m.AccumulatedCost
	u, a := &into.AccumulatedTokenUsage, m.AccumulatedTokenUsage
	u.PromptTokens += a.PromptTokens
	u.CompletionTokens += a.CompletionTokens
	u.CacheReadTokens += a.CacheReadTokens
	u.CacheWriteTokens += a.CacheWriteTokens
	u.ContextWindow = max(u.ContextWindow, a.ContextWindow)
}
