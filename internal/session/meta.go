package session

import (
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage"
)

// metaUpdater keeps the conversation's metadata up to date with its events: last_updated_at, the
// LLM cost and tokens, and a title from the first user message. OpenHands rewrites metadata.json
// for every event; we write at most once per MetadataInterval, and at close.
type metaUpdater struct {
	s    *Session
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// mu guards the fields below.
	mu        sync.Mutex
	dirty     bool
	updated   time.Time
	metrics   *events.Metrics
	firstUser string
	titled    bool // a title was derived (or the stored one is not the default)
	closed    bool
}

func newMetaUpdater(s *Session) *metaUpdater {
	m := &metaUpdater{s: s, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	return m
}

// touch records an event (on the forwarder goroutine).
func (m *metaUpdater) touch(ev *events.Event) {
	m.mu.Lock()
	m.dirty = true
	m.updated = m.s.now()
	if ev.LLMMetrics != nil {
		m.countUsage(ev.LLMMetrics)
		cp := *ev.LLMMetrics
		m.metrics = &cp
	}
	if msg, ok := ev.Action.(*events.MessageAction); ok && ev.Source == events.SourceUser && m.firstUser == "" &&
		strings.TrimSpace(msg.Content) != "" {
		m.firstUser = msg.Content
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// countUsage adds what the LLM used since the last metrics seen to the Prometheus counters.
func (m *metaUpdater) countUsage(now *events.Metrics) {
	var prev events.Metrics
	if m.metrics != nil {
		prev = *m.metrics
	}
	u, p := now.AccumulatedTokenUsage, prev.AccumulatedTokenUsage
	dp, dc, cost := u.PromptTokens-p.PromptTokens, u.CompletionTokens-p.CompletionTokens, now.AccumulatedCost-prev.AccumulatedCost
	if dp > 0 || dc > 0 || cost > 0 {
		m.s.opts.Metrics.LLMUsage(u.Model, max(dp, 0), max(dc, 0), max(cost, 0))
	}
}

func (m *metaUpdater) loop() {
	defer close(m.done)
	for {
		select {
		case <-m.wake:
			m.save()
			select {
			case <-time.After(m.s.opts.MetadataInterval):
			case <-m.stop:
				m.save()
				return
			}
		case <-m.stop:
			m.save()
			return
		}
	}
}

// close saves what is pending and stops.
func (m *metaUpdater) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	<-m.done
}

// DefaultTitle is the title of a conversation nobody named: "Conversation " and the id's first
// five characters.
func DefaultTitle(id string) string {
	if len(id) > 5 {
		id = id[:5]
	}
	return "Conversation " + id
}

func (m *metaUpdater) save() {
	m.mu.Lock()
	if !m.dirty {
		m.mu.Unlock()
		return
	}
	m.dirty = false
	updated, metrics, first, titled := m.updated, m.metrics, m.firstUser, m.titled
	m.mu.Unlock()

	store, id := m.s.opts.Store, m.s.id
	md, err := store.GetConversation(id)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			m.s.log.Warn("could not read the conversation's metadata", "err", err)
		}
		return // deleted meanwhile: do not bring it back
	}
	u := updated.UTC()
	md.LastUpdatedAt = &u
	if metrics != nil {
		md.AccumulatedCost = metrics.AccumulatedCost
		md.PromptTokens = metrics.AccumulatedTokenUsage.PromptTokens
		md.CompletionTokens = metrics.AccumulatedTokenUsage.CompletionTokens
		md.TotalTokens = md.PromptTokens + md.CompletionTokens
	}
	newTitle := ""
	if !titled {
		if md.Title != nil && *md.Title != "" && *md.Title != DefaultTitle(id) {
			titled = true
		} else if first != "" {
			newTitle = shortTitle(first)
			md.Title = &newTitle
			titled = true
		}
		m.mu.Lock()
		m.titled = titled
		m.mu.Unlock()
	}
	if err := store.SaveConversation(md); err != nil {
		m.s.log.Warn("could not save the conversation's metadata", "err", err)
		return
	}
	if newTitle != "" {
		m.s.EmitTitle(newTitle)
	}
}

// shortTitle is OpenHands' fallback title: the first 30 characters of the first message, with
// "..." when it is longer.
func shortTitle(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if utf8.RuneCountInString(msg) <= 30 {
		return msg
	}
	r := []rune(msg)
	return strings.TrimSpace(string(r[:30])) + "..."
}
