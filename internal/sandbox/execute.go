package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Execute runs action through c with the rules OpenHands' runtimes share (runtime.md §3):
// non-runnable actions never reach the sandbox (think is acknowledged, others answer null);
// actions awaiting confirmation answer null; rejected ones answer user_rejected; an action without
// a timeout gets defaultTimeout as a non-blocking hard timeout.
func Execute(ctx context.Context, c *Client, action *events.Event, defaultTimeout time.Duration) (*events.Event, error) {
	if action.Action == nil {
		return nil, fmt.Errorf("execute: event %d is not an action", action.ID)
	}
	switch a := action.Action.(type) {
	case *events.AgentThinkAction:
		return events.NewObservation(&events.AgentThinkObservation{}, "Your thought has been logged."), nil
	case *events.CmdRunAction:
		if o := confirmationAnswer(a.ConfirmationState); o != nil {
			return o, nil
		}
	case *events.IPythonRunCellAction:
		if o := confirmationAnswer(a.ConfirmationState); o != nil {
			return o, nil
		}
	}
	if !events.Runnable(action.Action.ActionType()) {
		return events.NewObservation(&events.NullObservation{}, ""), nil
	}
	if action.Action.ActionType() == events.ActionMCP {
		return events.NewObservation(&events.ErrorObservation{},
			"MCP tools are called by the backend, not inside the sandbox."), nil
	}
	timeout := defaultTimeout
	if action.Timeout != nil && *action.Timeout > 0 {
		timeout = time.Duration(*action.Timeout * float64(time.Second))
	} else if timeout > 0 {
		secs := timeout.Seconds()
		sent := *action
		sent.Timeout = &secs
		action = &sent
	}
	return c.Execute(ctx, action, timeout)
}

func confirmationAnswer(state string) *events.Event {
	switch state {
	case events.ConfirmationAwaiting:
		return events.NewObservation(&events.NullObservation{}, "")
	case events.ConfirmationRejected:
		return events.NewObservation(&events.UserRejectObservation{},
			"Action has been rejected by the user! Waiting for further user input.")
	}
	return nil
}
