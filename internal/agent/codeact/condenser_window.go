package codeact

import (
	"context"

	"github.com/gohands/gohands/internal/events"
)

// windowCondenser is OpenHands' ConversationWindowCondenser: it acts only on a condensation
// request, and then forgets the older half of the conversation while keeping what anchors it (the
// system event, the first user message and the recall that answered it). The agent also uses it as
// the fallback for requests the configured condenser leaves unanswered, so that a context-window
// overflow always shrinks the history.
type windowCondenser struct{}

func (windowCondenser) Condense(_ context.Context, v View) (View, *events.CondensationAction, error) {
	if !v.UnhandledCondensationRequest {
		return v, nil, nil
	}
	if act := windowCondensation(v.Events); act != nil {
		return v, act, nil
	}
	return v, nil, nil
}

// windowCondensation is the condensation that halves evs, or nil when nothing can be forgotten.
func windowCondensation(evs []*events.Event) *events.CondensationAction {
	essential := map[*events.Event]bool{}
	var firstUser *events.Event
	firstUserAt := -1
	for _, ev := range evs {
		if _, ok := ev.Action.(*events.SystemMessageAction); ok {
			essential[ev] = true
			break
		}
	}
	for i, ev := range evs {
		if isUserMessage(ev) {
			firstUser, firstUserAt = ev, i
			break
		}
	}
	if firstUser != nil {
		essential[firstUser] = true
		query := firstUser.Action.(*events.MessageAction).Content
		for i := firstUserAt + 1; i < len(evs); i++ {
			recall, ok := evs[i].Action.(*events.RecallAction)
			if !ok || recall.Query != query {
				continue
			}
			essential[evs[i]] = true
			for _, obs := range evs[i+1:] {
				if _, ok := obs.Observation.(*events.RecallObservation); ok && obs.Cause != nil && *obs.Cause == evs[i].ID {
					essential[obs] = true
					break
				}
			}
			break
		}
	}

	keep := max(1, (len(evs)-len(essential))/2)
	start := max(0, len(evs)-keep)
	// Do not begin the kept part with observations whose actions are forgotten.
	for start < len(evs) && evs[start].Observation != nil {
		start++
	}
	var forget []*events.Event
	for i, ev := range evs {
		if i < start && !essential[ev] && !isSummary(ev) {
			forget = append(forget, ev)
		}
	}
	return forgetRange(forget)
}
