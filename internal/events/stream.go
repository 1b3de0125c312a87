package events

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// Log is the durable, append-only record store a Stream writes to (package storage/eventlog).
// Readers of a Log see only durable records.
type Log interface {
	Append(id int64, payload []byte) error
	WaitDurable(ctx context.Context, id int64) error
	NextID() int64
	Read(id int64) ([]byte, error)
	Scan(from, to int64, reverse bool, fn func(id int64, payload []byte) bool) error
	Close() error
}

// SubscriberID names a subscriber of a stream; OpenHands' names are kept for the familiar ones.
type SubscriberID string

// Well-known subscribers.
const (
	SubscriberAgentController  SubscriberID = "agent_controller"
	SubscriberSecurityAnalyzer SubscriberID = "security_analyzer"
	SubscriberResolver         SubscriberID = "openhands_resolver"
	SubscriberServer           SubscriberID = "server"
	SubscriberRuntime          SubscriberID = "runtime"
	SubscriberMemory           SubscriberID = "memory"
	SubscriberMain             SubscriberID = "main"
	SubscriberTest             SubscriberID = "test"
)

// ErrClosed is returned by a Stream after Close.
var ErrClosed = errors.New("event stream is closed")

// StreamOptions tune a Stream; the zero value is fine.
type StreamOptions struct {
	Logger *slog.Logger
	// Window is how many recent events are kept decoded in memory (default 256); subscribers that
	// fall further behind read from the log, so memory stays bounded however slow they are.
	Window int
	// Now returns the time stamped on appended events (default time.Now).
	Now func() time.Time
	// OnFailure is called (from a goroutine of the stream) when events given to Post could not be
	// made durable. Nil: the failure is only logged.
	OnFailure func(error)
}

// Stream is the ordered, durable, fanned-out sequence of one conversation's events.
//
// Append gives an event the next id and a timestamp, masks registered secrets, writes it to the log
// and waits until it is durable; only then do subscribers see it. Each subscriber has its own
// goroutine and cursor: it receives every event in id order, and a slow one delays nobody else.
type Stream struct {
	conversationID string
	log            Log
	logger         *slog.Logger
	now            func() time.Time
	onFailure      func(error)
	inflight       sync.WaitGroup // appends accepted but not yet published
	subsDone       sync.WaitGroup // subscriber goroutines

	// mu guards the fields below.
	mu        sync.Mutex
	next      int64    // id of the next appended event
	published int64    // events with id < published are durable and visible to subscribers
	window    []*entry // recent events by id % len(window)
	masker    *masker
	secrets   map[string]string
	subs      map[SubscriberID]*subscriber
	closed    bool
	postedTo  int64 // id of the last posted event
	posted    int   // events posted since the flusher last looked
	flushing  bool  // a flush goroutine is running
}

// entry is a recent event: its JSON as written, and its decoded form, made once on first use.
type entry struct {
	id  int64
	raw []byte
	ev  atomic.Pointer[Event]
}

// NewStream starts the stream of a conversation on log, continuing after the log's last record.
// The Stream owns log from now on and closes it in Close.
func NewStream(conversationID string, log Log, opts StreamOptions) *Stream {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Window <= 0 {
		opts.Window = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	next := log.NextID()
	return &Stream{
		conversationID: conversationID,
		log:            log,
		logger:         opts.Logger.With("conversation_id", conversationID),
		now:            opts.Now,
		onFailure:      opts.OnFailure,
		next:           next,
		published:      next,
		window:         make([]*entry, opts.Window),
		subs:           map[SubscriberID]*subscriber{},
	}
}

// ConversationID is the id of the conversation this stream belongs to.
func (s *Stream) ConversationID() string { return s.conversationID }

// SetSecrets replaces the secrets masked in every event appended from now on (name → value).
func (s *Stream) SetSecrets(secrets map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = map[string]string{}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.masker = newMasker(s.secrets)
}

// UpdateSecrets adds or replaces some secrets.
func (s *Stream) UpdateSecrets(secrets map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.masker = newMasker(s.secrets)
}

// Append adds ev with the given source and returns its id once it is durable. It sets ev's ID,
// Timestamp and Source; what subscribers receive is a separate copy with secrets masked, so the
// caller's event keeps the values the caller itself needs. An event that was accepted is written
// and delivered even if ctx is cancelled meanwhile.
func (s *Stream) Append(ctx context.Context, ev *Event, source Source) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	id, err := s.enqueue(ev, source, false)
	if err != nil {
		return -1, err
	}
	defer s.inflight.Done()
	if err := s.log.WaitDurable(context.WithoutCancel(ctx), id); err != nil {
		return -1, fmt.Errorf("append to %s: event %d is not durable: %w", s.conversationID, id, err)
	}
	s.publish(id)
	return id, nil
}

// Post is Append without the wait: it gives ev its id and its place in the log and returns; the
// event is published to subscribers once it is durable, in id order as always. A caller that must
// not stall on the disk (a socket's reader) uses it, and the events it posts in a row share one
// sync. Post takes ev over: the caller must not touch it afterwards, and subscribers may receive
// ev itself instead of a decoded copy. A failure to make the event durable is reported to
// StreamOptions.OnFailure (the log is failed for good then: every later call fails too).
func (s *Stream) Post(ev *Event, source Source) (int64, error) {
	id, err := s.enqueue(ev, source, true)
	if err != nil {
		return -1, err
	}
	return id, nil
}

// flush makes posted events durable and publishes them, one sync for all those posted meanwhile.
// It runs while there are posted events and exits when there are none.
func (s *Stream) flush() {
	for {
		s.mu.Lock()
		to, n := s.postedTo, s.posted
		s.posted = 0
		if n == 0 {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if err := s.log.WaitDurable(context.Background(), to); err != nil {
			err = fmt.Errorf("append to %s: event %d is not durable: %w", s.conversationID, to, err)
			s.logger.Error("posted events were not written", "to_id", to, "err", err)
			if s.onFailure != nil {
				s.onFailure(err)
			}
		} else {
			s.publish(to)
		}
		s.inflight.Add(-n)
	}
}

// enqueue gives ev its id, timestamp and source and hands it to the log; the caller of a
// non-own enqueue owes one inflight.Done. With own set (Post), the flusher owes it instead, and
// the window keeps ev itself when masking left its JSON as encoded.
func (s *Stream) enqueue(ev *Event, source Source, own bool) (int64, error) {
	if !source.Valid() {
		return -1, fmt.Errorf("append to %s: unknown source %q", s.conversationID, source)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return -1, ErrClosed
	}
	id := s.next
	ev.ID, ev.Timestamp, ev.Source = id, FormatTimestamp(s.now()), source
	encoded, err := Marshal(ev)
	raw := encoded
	if err == nil {
		raw, err = s.masker.mask(encoded)
	}
	if err == nil {
		err = s.log.Append(id, raw)
	}
	if err != nil {
		ev.ID = -1
		return -1, fmt.Errorf("append to %s: %w", s.conversationID, err)
	}
	s.next++
	e := &entry{id: id, raw: raw}
	if own && len(raw) > 0 && &raw[0] == &encoded[0] {
		e.ev.Store(ev) // nothing was masked: ev is what decoding raw would give
	}
	s.window[id%int64(len(s.window))] = e
	s.inflight.Add(1)
	if own {
		// Under the same lock as the id, so that postedTo only grows.
		s.postedTo = id
		s.posted++
		if !s.flushing {
			s.flushing = true
			go s.flush()
		}
	}
	return id, nil
}

// publish makes every event up to id visible: the log is sequential, so if id is durable, so is
// everything before it.
func (s *Stream) publish(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < s.published {
		return
	}
	s.published = id + 1
	for _, sub := range s.subs {
		sub.wake()
	}
}

// LatestID is the id of the newest published event, -1 when there is none.
func (s *Stream) LatestID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.published - 1
}

// Get returns one published event. The event is shared: do not modify it.
func (s *Stream) Get(id int64) (*Event, error) {
	s.mu.Lock()
	published := s.published
	s.mu.Unlock()
	if id < 0 || id >= published {
		return nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, errNoEvent)
	}
	ev, _, err := s.load(id)
	return ev, err
}

var errNoEvent = errors.New("no such event")

// IsNotFound reports whether err says an event does not exist.
func IsNotFound(err error) bool { return errors.Is(err, errNoEvent) }

// load returns a published event from the window, or from the log when it has left the window.
func (s *Stream) load(id int64) (*Event, []byte, error) {
	s.mu.Lock()
	e := s.window[id%int64(len(s.window))]
	s.mu.Unlock()
	if e != nil && e.id == id {
		if ev := e.ev.Load(); ev != nil {
			return ev, e.raw, nil
		}
		ev, err := Decode(e.raw)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, err)
		}
		e.ev.CompareAndSwap(nil, ev)
		return e.ev.Load(), e.raw, nil
	}
	raw, err := s.log.Read(id)
	if errors.Is(err, eventlog.ErrNotFound) {
		return nil, nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, errNoEvent)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, err)
	}
	ev, err := Decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, err)
	}
	return ev, raw, nil
}

// Search yields the published events f selects, with their JSON text. Events that cannot be
// decoded are reported as errors and the search goes on.
func (s *Stream) Search(ctx context.Context, f Filter) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		s.mu.Lock()
		last := s.published - 1
		s.mu.Unlock()
		to := f.EndID
		if to < 0 || to > last {
			to = last
		}
		if f.StartID > to {
			return
		}
		n := 0
		var stop bool
		err := s.log.Scan(f.StartID, to, f.Reverse, func(id int64, raw []byte) bool {
			if ctx.Err() != nil {
				return false
			}
			ev, err := Decode(raw)
			if err != nil {
				if !yield(nil, fmt.Errorf("event %d of %s: %w", id, s.conversationID, err)) {
					stop = true
					return false
				}
				return true
			}
			if !f.Match(ev, raw) {
				return true
			}
			n++
			if !yield(ev, nil) {
				stop = true
				return false
			}
			return f.Limit <= 0 || n < f.Limit
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil && !stop {
			yield(nil, fmt.Errorf("search %s: %w", s.conversationID, err))
		}
	}
}

// Close stops accepting events, lets every subscriber receive everything published, stops their
// goroutines and closes the log.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	s.mu.Lock()
	for _, sub := range s.subs {
		sub.finish()
	}
	s.subs = map[SubscriberID]*subscriber{}
	s.mu.Unlock()
	s.subsDone.Wait()
	if err := s.log.Close(); err != nil {
		return fmt.Errorf("close stream %s: %w", s.conversationID, err)
	}
	return nil
}
