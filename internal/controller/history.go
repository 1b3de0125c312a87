package controller

import (
	"context"
	"fmt"

	"github.com/gohands/gohands/internal/events"
)

// rebuild loads the history of a resumed conversation: the events up to latest, filtered as
// OpenHands filters them, without the events a delegate produced. It reports whether the
// conversation has begun (a system or user message exists), in which case no system message is
// added.
//
// OpenHands restores its State from a pickle; gohands keeps no second copy of the conversation,
// so the iteration count is recovered from the events: one per agent action (a confirmed or
// rejected copy of an action that waited for the user is the same step).
func (c *Controller) rebuild(ctx context.Context, latest int64) (begun bool, err error) {
	if latest < 0 {
		return false, nil
	}
	var all []*events.Event
	for ev, err := range c.stream.Search(ctx, events.Filter{EndID: latest}) {
		if err != nil {
			if ctx.Err() != nil {
				return false, fmt.Errorf("start agent controller: read history: %w", err)
			}
			c.log.Warn("agent controller skips an event it cannot read", "err", err)
			continue
		}
		all = append(all, ev)
	}
	awaiting := map[string]bool{}
	for _, ev := range withoutDelegates(all) {
		switch ev.Action.(type) {
		case *events.SystemMessageAction:
			begun = true
		case *events.MessageAction:
			if ev.Source == events.SourceUser {
				begun = true
				if c.firstUserMsg < 0 {
					c.firstUserMsg = ev.ID
				}
			}
		}
		if ev.Action != nil && ev.Source == events.SourceAgent && countsAsStep(ev, awaiting) {
			c.limits.iteration++
		}
		if inHistory(ev) {
			c.addHistory(ev)
		}
	}
	if !c.cfg.Headless {
		// Limits a user raised by continuing past them are not stored: raise them again as far
		// as the conversation already went, so that resuming does not stop at once.
		for c.limits.iteration >= c.limits.maxIterations {
			c.limits.maxIterations += c.limits.iterationIncrease
		}
	}
	return begun, nil
}

// countsAsStep reports whether an agent action was a step of its own. awaiting collects the tool
// calls of actions that waited for the user's confirmation: their confirmed or rejected copy is
// not another step.
func countsAsStep(ev *events.Event, awaiting map[string]bool) bool {
	var state string
	switch a := ev.Action.(type) {
	case *events.SystemMessageAction:
		return false
	case *events.CmdRunAction:
		state = a.ConfirmationState
	case *events.IPythonRunCellAction:
		state = a.ConfirmationState
	default:
		return true
	}
	if ev.ToolCallMetadata == nil {
		return true
	}
	id := ev.ToolCallMetadata.ToolCallID
	if state == events.ConfirmationAwaiting {
		awaiting[id] = true
		return true
	}
	return !awaiting[id]
}

// withoutDelegates drops the events strictly between a delegate action and the delegate
// observation that answers it (they belong to the delegate's history, not the agent's), as
// OpenHands does when it rebuilds a history.
func withoutDelegates(evs []*events.Event) []*events.Event {
	type span struct{ from, to int64 }
	var open []int64
	var spans []span
	for _, ev := range evs {
		switch {
		case ev.Type() == string(events.ActionDelegate) && ev.Action != nil:
			open = append(open, ev.ID)
		case ev.Observation != nil && ev.Type() == string(events.ObservationDelegate) && len(open) > 0:
			spans = append(spans, span{open[len(open)-1], ev.ID})
			open = open[:len(open)-1]
		}
	}
	if len(spans) == 0 {
		return evs
	}
	out := evs[:0:0]
	for _, ev := range evs {
		inside := false
		for _, s := range spans {
			if ev.ID > s.from && ev.ID < s.to {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, ev)
		}
	}
	return out
}
