package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/sandbox"
)

// RuntimeBridge executes the actions of a stream in a sandbox and appends their observations: the
// "runtime" subscriber of OpenHands' event stream.
type RuntimeBridge struct {
	stream *events.Stream
	rt     sandbox.Runtime
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewRuntimeBridge connects rt to stream. Call Start to begin.
func NewRuntimeBridge(stream *events.Stream, rt sandbox.Runtime, log *slog.Logger) *RuntimeBridge {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &RuntimeBridge{stream: stream, rt: rt, log: log.With("conversation_id", stream.ConversationID()),
		ctx: ctx, cancel: cancel}
}

// Start subscribes to actions appended from now on.
func (b *RuntimeBridge) Start() error {
	return b.stream.Subscribe(events.SubscriberRuntime, b.handle, -1)
}

// Close stops executing; an action in flight is cancelled.
func (b *RuntimeBridge) Close() {
	b.stream.Unsubscribe(events.SubscriberRuntime)
	b.cancel()
	b.wg.Wait()
}

// needsRuntime reports whether an action is answered by the runtime: runnable actions, and think
// (acknowledged with a think observation).
func needsRuntime(ev *events.Event) bool {
	if ev.Action == nil {
		return false
	}
	t := ev.Action.ActionType()
	return events.Runnable(t) || t == events.ActionThink
}

// handle runs on the stream's subscriber goroutine, so actions execute one at a time, in order.
func (b *RuntimeBridge) handle(ev *events.Event) {
	if !needsRuntime(ev) {
		return
	}
	b.wg.Add(1)
	defer b.wg.Done()
	obs, err := b.rt.Run(b.ctx, ev)
	if err != nil {
		if errors.Is(b.ctx.Err(), context.Canceled) {
			return // closing: the controller reports the unanswered action
		}
		b.log.Warn("the sandbox failed to run an action", "event_id", ev.ID, "action", ev.Type(), "err", err)
		// OpenHands sends only a status and leaves the action unanswered, so the agent waits
		// forever; answering with an error lets the agent (and the user) see what happened.
		obs = events.NewObservation(&events.ErrorObservation{},
			fmt.Sprintf("The sandbox could not run this action: %v", err))
	}
	if _, null := obs.Observation.(*events.NullObservation); null {
		return // awaiting confirmation, or nothing to answer
	}
	id := ev.ID
	obs.Cause = &id
	obs.ToolCallMetadata = ev.ToolCallMetadata
	source := ev.Source
	if source == "" {
		source = events.SourceAgent
	}
	if _, err := b.stream.Append(b.ctx, obs, source); err != nil && b.ctx.Err() == nil {
		b.log.Error("cannot record an observation", "event_id", ev.ID, "err", err)
	}
}
