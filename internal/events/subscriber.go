package events

import (
	"fmt"
	"runtime/debug"
)

// Handler receives the events of a stream, one at a time, in id order. The event is shared with
// other subscribers: do not modify it.
type Handler func(*Event)

// RawHandler is a Handler that also receives the event's JSON as stored (secrets masked): the
// bytes to send on when the event goes out unchanged. Neither may be modified.
type RawHandler func(ev *Event, raw []byte)

type subscriber struct {
	id      SubscriberID
	handler RawHandler
	cursor  int64         // owned by the subscriber goroutine
	signal  chan struct{} // capacity 1: "something was published"
	done    chan struct{} // closed to stop: drain what is published, then exit
	stop    chan struct{} // closed to stop at once (Unsubscribe)
}

func (sub *subscriber) wake() {
	select {
	case sub.signal <- struct{}{}:
	default:
	}
}

func (sub *subscriber) finish() { close(sub.done) }

// Subscribe delivers every event from id from on (from < 0: from the next event appended) to
// handler, on a goroutine of its own. A subscriber that starts in the past first catches up from
// the log, then follows live events with no gap and no duplicate.
func (s *Stream) Subscribe(id SubscriberID, handler Handler, from int64) error {
	return s.SubscribeRaw(id, func(ev *Event, _ []byte) { handler(ev) }, from)
}

// SubscribeRaw is Subscribe for a handler that wants the stored JSON too.
func (s *Stream) SubscribeRaw(id SubscriberID, handler RawHandler, from int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, dup := s.subs[id]; dup {
		return fmt.Errorf("subscribe to %s: %q is already subscribed", s.conversationID, id)
	}
	if from < 0 || from > s.published {
		from = s.published
	}
	sub := &subscriber{
		id: id, handler: handler, cursor: from,
		signal: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{}),
	}
	s.subs[id] = sub
	s.subsDone.Add(1)
	go s.run(sub)
	sub.wake()
	return nil
}

// Unsubscribe stops delivering to id. Events being delivered finish; no new one starts.
func (s *Stream) Unsubscribe(id SubscriberID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub, ok := s.subs[id]; ok {
		delete(s.subs, id)
		close(sub.stop)
	}
}

func (s *Stream) run(sub *subscriber) {
	defer s.subsDone.Done()
	for {
		s.mu.Lock()
		published := s.published
		s.mu.Unlock()
		for sub.cursor < published {
			select {
			case <-sub.stop:
				return
			default:
			}
			ev, raw, err := s.load(sub.cursor)
			switch {
			case IsNotFound(err):
				// a gap in an imported conversation
			case err != nil:
				s.logger.Error("event cannot be delivered", "subscriber", sub.id, "event_id", sub.cursor, "err", err)
			default:
				s.deliver(sub, ev, raw)
			}
			sub.cursor++
		}
		select {
		case <-sub.signal:
		case <-sub.stop:
			return
		case <-sub.done:
			s.mu.Lock()
			caughtUp := sub.cursor >= s.published
			s.mu.Unlock()
			if caughtUp {
				return
			}
		}
	}
}

// deliver calls the handler; a panicking handler is logged and does not stop the subscriber.
func (s *Stream) deliver(sub *subscriber, ev *Event, raw []byte) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("subscriber panicked", "subscriber", sub.id, "event_id", ev.ID, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	sub.handler(ev, raw)
}
