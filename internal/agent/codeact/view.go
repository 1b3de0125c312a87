package codeact

import "github.com/gohands/gohands/internal/events"

// View is the part of the history the model is shown: the history minus what condensations
// forgot, with the latest summary standing where its condensation put it (OpenHands' View).
type View struct {
	Events []*events.Event
	// UnhandledCondensationRequest is set when a condensation_request came after the last
	// condensation: a condenser should shrink the history now, whatever its size.
	UnhandledCondensationRequest bool
}

// NewView applies the condensations recorded in history. Removed: every id a condensation
// forgot, the condensation actions themselves and every condensation_request. When the most recent
// condensation that carries a summary has a summary_offset, a synthetic condense observation holding
// the summary is inserted at that index. The synthetic event has id -1.
func NewView(history []*events.Event) View {
	forgotten := map[int64]bool{}
	for _, ev := range history {
		switch a := ev.Action.(type) {
		case *events.CondensationAction:
			for _, id := range a.Forgotten() {
				forgotten[id] = true
			}
			forgotten[ev.ID] = true
		case *events.CondensationRequestAction:
			forgotten[ev.ID] = true
		}
	}
	kept := make([]*events.Event, 0, len(history))
	for _, ev := range history {
		switch ev.Action.(type) {
		case *events.CondensationAction, *events.CondensationRequestAction:
			continue // also when the id is -1, as in tests
		}
		if !forgotten[ev.ID] || ev.ID < 0 {
			kept = append(kept, ev)
		}
	}
	var v View
	for i := len(history) - 1; i >= 0; i-- {
		if a, ok := history[i].Action.(*events.CondensationAction); ok && a.Summary != nil && a.SummaryOffset != nil {
			at := min(max(*a.SummaryOffset, 0), len(kept))
			summary := events.NewObservation(&events.AgentCondensationObservation{}, *a.Summary)
			kept = append(kept[:at], append([]*events.Event{summary}, kept[at:]...)...)
			break
		}
	}
	for i := len(history) - 1; i >= 0; i-- {
		switch history[i].Action.(type) {
		case *events.CondensationAction:
			i = -1 // handled: stop looking
		case *events.CondensationRequestAction:
			v.UnhandledCondensationRequest = true
			i = -1
		}
	}
	v.Events = kept
	return v
}

// isSummary reports whether ev is a condense observation (the synthetic summary of a view).
func isSummary(ev *events.Event) bool {
	_, ok := ev.Observation.(*events.AgentCondensationObservation)
	return ok
}
