package codeact

import (
	"context"
	"slices"

	"github.com/gohands/gohands/internal/events"
)

// recentCondenser shows the first keepFirst events and the most recent ones, maxEvents in all.
// It only narrows the view of each request; nothing is forgotten for good.
type recentCondenser struct {
	keepFirst, maxEvents int
}

func (r recentCondenser) Condense(_ context.Context, v View) (View, *events.CondensationAction, error) {
	if len(v.Events) <= r.maxEvents {
		return v, nil, nil
	}
	head := min(r.keepFirst, len(v.Events), r.maxEvents)
	tail := r.maxEvents - head
	evs := slices.Concat(v.Events[:head], v.Events[len(v.Events)-tail:])
	return View{Events: evs, UnhandledCondensationRequest: v.UnhandledCondensationRequest}, nil, nil
}

// amortizedCondenser forgets events once the view exceeds maxSize, keeping the first keepFirst
// and enough recent ones to come back to half of maxSize, so that it condenses rarely and the
// prompt prefix stays cacheable in between. It also answers condensation requests.
type amortizedCondenser struct {
	keepFirst, maxSize int
}

func (a amortizedCondenser) Condense(_ context.Context, v View) (View, *events.CondensationAction, error) {
	if len(v.Events) <= a.maxSize && !v.UnhandledCondensationRequest {
		return v, nil, nil
	}
	head := min(a.keepFirst, len(v.Events))
	tail := tailToKeep(len(v.Events)-head, a.maxSize/2-head)
	act := forgetList(v.Events[head : len(v.Events)-tail])
	if act == nil {
		return v, nil, nil
	}
	return v, act, nil
}

// tailToKeep is how many of the n events after the head to keep when condensing: want, unless
// that would forget nothing (a request on a short view), then the newer half, rounded up.
func tailToKeep(n, want int) int {
	want = max(want, 0)
	if n-want < 1 {
		want = (n + 1) / 2
	}
	return want
}

// forgetList forgets the real events of evs by id list; nil when there are none.
func forgetList(evs []*events.Event) *events.CondensationAction {
	var ids []int64
	for _, ev := range evs {
		if ev.ID >= 0 && !isSummary(ev) {
			ids = append(ids, ev.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return &events.CondensationAction{ForgottenEventIDs: ids}
}
