package conversation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/memory"
	"github.com/gohands/gohands/internal/metrics"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// Options configure a Standalone manager.
type Options struct {
	Config    *config.Config
	Store     *storage.Store
	Sandboxes *session.Sandboxes
	// Emitter reaches the socket connections; nil sends nothing.
	Emitter session.Emitter
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
	// CleanupInterval is how often idle conversations are looked for (default 15 s, or half of
	// sandbox.close_delay when that is shorter).
	CleanupInterval time.Duration
	// NewAgent and EventsOnly are passed to every session (tests and benchmarks).
	NewAgent   func(workspaceDir string) (agent.Agent, func() events.Metrics, error)
	EventsOnly bool
}

// Standalone is the single-process Manager: every agent loop, connection and stream of this
// server lives here. State is in memory only; after a restart every conversation reads STOPPED
// until someone opens it.
type Standalone struct {
	opts       Options
	log        *slog.Logger
	now        func() time.Time
	closeDelay time.Duration
	maxLoops   int

	stopCleanup chan struct{}
	cleanupDone chan struct{}
	startOnce   sync.Once
	// evicting counts the evicted loops still closing in the background (added to under mu);
	// Close waits for them.
	evicting sync.WaitGroup

	// mu guards the maps below and closed.
	mu       sync.Mutex
	loops    map[string]*session.Session
	conns    map[string]string    // connection id → conversation id
	idle     map[string]time.Time // conversation id → when its last connection left
	attached map[string]*attachment
	streams  map[string]*streamRef
	closed   bool
}

// streamRef is a conversation's event stream shared by its agent loop and REST calls: the event
// log can be open once per process.
type streamRef struct {
	stream *events.Stream
	refs   int
}

// attachment is a conversation held for REST calls.
type attachment struct {
	a        *Attached
	refs     int
	detached time.Time // when refs fell to 0
	ready    chan struct{}
	err      error
	own      *session.Sandbox // the sandbox it started itself (no agent loop was running)
}

var _ Manager = (*Standalone)(nil)

// NewStandalone makes the manager; Start begins its cleanup loop.
func NewStandalone(opts Options) *Standalone {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Standalone{opts: opts, log: opts.Logger, now: opts.Now,
		closeDelay: time.Duration(opts.Config.Sandbox.CloseDelay) * time.Second,
		maxLoops:   opts.Config.Core.MaxConcurrentConversations,
		loops:      map[string]*session.Session{}, conns: map[string]string{}, idle: map[string]time.Time{},
		attached: map[string]*attachment{}, streams: map[string]*streamRef{},
		stopCleanup: make(chan struct{}), cleanupDone: make(chan struct{})}
	if m.maxLoops <= 0 {
		m.maxLoops = 3
	}
	return m
}

// Start runs the cleanup loop until Close.
func (m *Standalone) Start() {
	m.startOnce.Do(func() { go m.cleanupLoop() })
}

// acquireStream opens conversation id's stream or shares the open one. Call with m.mu held.
func (m *Standalone) acquireStream(id string) (*events.Stream, error) {
	if r, ok := m.streams[id]; ok {
		r.refs++
		return r.stream, nil
	}
	elog, err := m.opts.Store.OpenEventLog(id)
	if err != nil {
		return nil, err
	}
	st := events.NewStream(id, elog, events.StreamOptions{Logger: m.log, OnFailure: func(err error) {
		if em := m.opts.Emitter; em != nil {
			em.EmitRoom(id, session.ErrorPayload("A message could not be saved, so it was not sent: "+err.Error()))
		}
	}})
	m.streams[id] = &streamRef{stream: st, refs: 1}
	return st, nil
}

// releaseStream drops one reference and closes the stream with the last. Call with m.mu held.
func (m *Standalone) releaseStream(id string) {
	r, ok := m.streams[id]
	if !ok {
		return
	}
	if r.refs--; r.refs > 0 {
		return
	}
	delete(m.streams, id)
	if err := r.stream.Close(); err != nil {
		m.log.Warn("could not close an event stream", "conversation_id", id, "err", err)
	}
}

// Stream lends conversation id's event stream (for reading its events); call release when done.
func (m *Standalone) Stream(id string) (_ *events.Stream, release func(), _ error) {
	if _, err := m.opts.Store.GetConversation(id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil, ErrNotFound
		}
		return nil, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st, err := m.acquireStream(id)
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	return st, func() {
		once.Do(func() {
			m.mu.Lock()
			m.releaseStream(id)
			m.mu.Unlock()
		})
	}, nil
}

// initData loads what a new agent loop needs from storage.
func (m *Standalone) initData() (*storage.Settings, *storage.Secrets, error) {
	st, err := m.opts.Store.LoadSettings()
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrSettingsNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	sec, err := m.opts.Store.LoadSecrets()
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, nil, err
	}
	return st, sec, nil
}

// MaybeStartAgentLoop implements Manager.
func (m *Standalone) MaybeStartAgentLoop(ctx context.Context, id string, opts StartOptions) (LoopInfo, error) {
	m.mu.Lock()
	if s, ok := m.loops[id]; ok {
		info := m.infoLocked(id, s)
		m.mu.Unlock()
		return info, nil
	}
	m.mu.Unlock()
	md, err := m.opts.Store.GetConversation(id)
	if errors.Is(err, storage.ErrNotFound) {
		return LoopInfo{}, ErrNotFound
	}
	if err != nil {
		return LoopInfo{}, err
	}
	settings, secrets, err := m.initData()
	if err != nil {
		return LoopInfo{}, err
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return LoopInfo{}, ErrClosed
	}
	if s, ok := m.loops[id]; ok { // started meanwhile
		info := m.infoLocked(id, s)
		m.mu.Unlock()
		return info, nil
	}
	evicted := m.evictLocked(opts.UserID)
	st, err := m.acquireStream(id)
	if err != nil {
		m.mu.Unlock()
		m.closeEvicted(evicted)
		return LoopInfo{}, err
	}
	s, err := session.New(session.Options{ConversationID: id, UserID: opts.UserID, Config: m.opts.Config,
		Store: m.opts.Store, Sandboxes: m.opts.Sandboxes, Stream: st, Emitter: m.opts.Emitter, Logger: m.log,
		Metrics: m.opts.Metrics, NewAgent: m.opts.NewAgent, EventsOnly: m.opts.EventsOnly, Now: m.now})
	if err != nil {
		m.releaseStream(id)
		m.mu.Unlock()
		m.closeEvicted(evicted)
		return LoopInfo{}, err
	}
	m.loops[id] = s
	info := m.infoLocked(id, s)
	m.mu.Unlock()
	m.closeEvicted(evicted)
	m.opts.Metrics.ConversationStarted()
	repo := ""
	if md.SelectedRepository != nil {
		repo = *md.SelectedRepository
	}
	s.Start(session.StartSpec{Settings: settings, Secrets: secrets, InitialMessage: opts.InitialMessage,
		ReplayJSON: opts.ReplayJSON, ConversationInstructions: opts.ConversationInstructions, SelectedRepository: repo})
	m.log.Info("agent loop started", "conversation_id", id)
	return info, nil
}

// evictLocked takes the user's least recently updated loops out of the running set until one
// more fits under max_concurrent_conversations (OpenHands: all users together when the user id
// is empty), and returns them for closeEvicted. Call with m.mu held.
func (m *Standalone) evictLocked(userID string) []*session.Session {
	var mine []*session.Session
	for _, s := range m.loops {
		if userID == "" || s.UserID() == userID {
			mine = append(mine, s)
		}
	}
	if len(mine) < m.maxLoops {
		return nil
	}
	updated := func(s *session.Session) time.Time {
		if md, err := m.opts.Store.GetConversation(s.ID()); err == nil && md.LastUpdatedAt != nil {
			return *md.LastUpdatedAt
		}
		return time.Time{} // unknown: oldest
	}
	slices.SortFunc(mine, func(a, b *session.Session) int { return updated(a).Compare(updated(b)) })
	n := len(mine) - m.maxLoops + 1
	evicted := mine[:n]
	for _, s := range evicted {
		m.detachLoopLocked(s.ID())
	}
	m.evicting.Add(len(evicted)) // under m.mu: a Close that follows waits for them
	return evicted
}

// evictionPayload is OpenHands' kind-D notice.
var evictionPayload = session.StatusPayload("error", "AGENT_ERROR$TOO_MANY_CONVERSATIONS",
	"Too many conversations at once. If you are still using this one, try reactivating it by prompting the agent to continue")

func (m *Standalone) closeEvicted(evicted []*session.Session) {
	for _, s := range evicted {
		m.log.Info("closing the least recently used conversation: too many at once", "conversation_id", s.ID(),
			"max_concurrent_conversations", m.maxLoops)
		if em := m.opts.Emitter; em != nil {
			em.EmitRoom(s.ID(), evictionPayload)
			em.DisconnectRoom(s.ID())
		}
		go func() {
			defer m.evicting.Done()
			m.finishClose(s)
		}()
	}
}

// detachLoopLocked removes a loop and its connections from the maps. Call with m.mu held.
func (m *Standalone) detachLoopLocked(id string) {
	delete(m.loops, id)
	delete(m.idle, id)
	for c, conv := range m.conns {
		if conv == id {
			delete(m.conns, c)
			m.opts.Metrics.ConnectionClosed()
		}
	}
}

// finishClose closes a session taken out of the maps and releases its stream.
func (m *Standalone) finishClose(s *session.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		m.log.Warn("agent loop closed with errors", "conversation_id", s.ID(), "err", err)
	}
	m.opts.Metrics.ConversationClosed()
	m.mu.Lock()
	m.releaseStream(s.ID())
	m.mu.Unlock()
	m.log.Info("agent loop closed", "conversation_id", s.ID())
}

// infoLocked describes a running loop. Call with m.mu held.
func (m *Standalone) infoLocked(id string, s *session.Session) LoopInfo {
	in := s.Info()
	info := LoopInfo{ConversationID: id, Status: StatusStarting, RuntimeStatus: in.RuntimeStatus,
		URL: "/api/conversations/" + id, AgentState: in.AgentState}
	switch in.Lifecycle {
	case session.Ready, session.Running, session.Error:
		info.Status = StatusRunning
	}
	for _, conv := range m.conns {
		if conv == id {
			info.NumConnections++
		}
	}
	return info
}

// IsAgentLoopRunning implements Manager.
func (m *Standalone) IsAgentLoopRunning(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.loops[id]
	return ok
}

// RunningAgentLoops implements Manager.
func (m *Standalone) RunningAgentLoops(userID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, s := range m.loops {
		if userID == "" || s.UserID() == userID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// AgentLoopInfo implements Manager.
func (m *Standalone) AgentLoopInfo(ids ...string) []LoopInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []LoopInfo
	if len(ids) == 0 {
		for id, s := range m.loops {
			out = append(out, m.infoLocked(id, s))
		}
		slices.SortFunc(out, func(a, b LoopInfo) int { return cmp.Compare(a.ConversationID, b.ConversationID) })
		return out
	}
	for _, id := range ids {
		if s, ok := m.loops[id]; ok {
			out = append(out, m.infoLocked(id, s))
		}
	}
	return out
}

// CloseSession implements Manager.
func (m *Standalone) CloseSession(ctx context.Context, id string) error {
	m.mu.Lock()
	s, ok := m.loops[id]
	if ok {
		m.detachLoopLocked(id)
	}
	m.mu.Unlock()
	if !ok {
		return nil
	}
	if em := m.opts.Emitter; em != nil {
		em.DisconnectRoom(id)
	}
	m.finishClose(s)
	return nil
}

// DeleteConversation implements Manager.
func (m *Standalone) DeleteConversation(ctx context.Context, id string) (bool, error) {
	if _, err := m.opts.Store.GetConversation(id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if err := m.CloseSession(ctx, id); err != nil {
		return false, err
	}
	m.mu.Lock()
	at := m.attached[id]
	delete(m.attached, id)
	m.mu.Unlock()
	if at != nil {
		<-at.ready
		m.closeAttachment(id, at)
	}
	var errs []error
	if !m.opts.EventsOnly && m.opts.Sandboxes != nil {
		if err := m.opts.Sandboxes.Delete(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("remove the sandbox: %w", err))
		}
	}
	m.mu.Lock()
	_, open := m.streams[id]
	m.mu.Unlock()
	if open {
		errs = append(errs, errors.New("the conversation's events are still in use; try again"))
	} else if err := m.opts.Store.DeleteConversation(id); err != nil {
		errs = append(errs, err)
	}
	return true, errors.Join(errs...)
}

// SendEvent implements Manager.
func (m *Standalone) SendEvent(ctx context.Context, id string, data []byte) error {
	m.mu.Lock()
	s, ok := m.loops[id]
	m.mu.Unlock()
	if !ok {
		return ErrNotRunning
	}
	return s.Dispatch(ctx, data)
}

// Microagents implements Manager.
func (m *Standalone) Microagents(id string) ([]*memory.Microagent, error) {
	m.mu.Lock()
	s, ok := m.loops[id]
	m.mu.Unlock()
	if !ok {
		return nil, ErrNotRunning
	}
	agents, ready := s.Microagents()
	if !ready {
		return nil, ErrMemoryNotReady
	}
	return agents, nil
}

// EmitTitle implements Manager.
func (m *Standalone) EmitTitle(id, title string) {
	m.mu.Lock()
	s, ok := m.loops[id]
	m.mu.Unlock()
	if ok {
		s.EmitTitle(title)
		return
	}
	if em := m.opts.Emitter; em != nil {
		em.EmitRoom(id, session.TitlePayload(id, title))
	}
}

// Join implements Manager.
func (m *Standalone) Join(ctx context.Context, c Conn, id string, opts JoinOptions) (LoopInfo, error) {
	if storage.ValidConversationID(id) != nil {
		return LoopInfo{}, ErrNotFound
	}
	if _, err := m.MaybeStartAgentLoop(ctx, id, StartOptions{ProvidersSet: opts.ProvidersSet, UserID: opts.UserID}); err != nil {
		return LoopInfo{}, err
	}
	m.mu.Lock()
	s, ok := m.loops[id]
	m.mu.Unlock()
	if !ok {
		return LoopInfo{}, fmt.Errorf("the conversation was closed while joining")
	}
	if err := s.Join(ctx, c.ID(), opts.LatestEventID); err != nil {
		return LoopInfo{}, fmt.Errorf("replay the conversation's events: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.loops[id]; !ok || cur != s {
		return LoopInfo{}, fmt.Errorf("the conversation was closed while joining")
	}
	m.conns[c.ID()] = id
	delete(m.idle, id)
	m.opts.Metrics.ConnectionOpened()
	return m.infoLocked(id, s), nil
}

// SendToEventStream implements Manager.
func (m *Standalone) SendToEventStream(ctx context.Context, connID string, data []byte) error {
	m.mu.Lock()
	id, ok := m.conns[connID]
	s := m.loops[id]
	m.mu.Unlock()
	if !ok {
		return ErrNotJoined
	}
	if s == nil {
		return ErrNotRunning
	}
	return s.Post(ctx, data)
}

// DisconnectFromSession implements Manager.
func (m *Standalone) DisconnectFromSession(connID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.conns[connID]
	if !ok {
		return
	}
	delete(m.conns, connID)
	m.opts.Metrics.ConnectionClosed()
	for _, conv := range m.conns {
		if conv == id {
			return
		}
	}
	m.idle[id] = m.now()
}

// Connections implements Manager.
func (m *Standalone) Connections(ids ...string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for c, conv := range m.conns {
		if len(ids) == 0 || slices.Contains(ids, conv) {
			out[c] = conv
		}
	}
	return out
}

// Attach implements Manager.
func (m *Standalone) Attach(ctx context.Context, id string) (*Attached, error) {
	md, err := m.opts.Store.GetConversation(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	// A running loop with a ready sandbox lends it.
	if s, ok := m.loops[id]; ok {
		if sb := s.Sandbox(); sb != nil && s.Info().Lifecycle != session.Error {
			m.mu.Unlock()
			return &Attached{ID: id, Metadata: md, Runtime: sb, HostWorkspace: sb.HostWorkspace, Stream: s.Stream()}, nil
		}
	}
	at, ok := m.attached[id]
	if ok {
		at.refs++
		m.mu.Unlock()
		<-at.ready
		if at.err != nil {
			m.Detach(&Attached{ID: id})
			return nil, at.err
		}
		a := *at.a
		a.Metadata = md
		return &a, nil
	}
	at = &attachment{refs: 1, ready: make(chan struct{})}
	m.attached[id] = at
	st, err := m.acquireStream(id)
	m.mu.Unlock()
	if err == nil {
		at.a = &Attached{ID: id, Metadata: md, Stream: st}
		err = m.startOwnSandbox(ctx, id, at)
	}
	if err != nil {
		at.err = err
		close(at.ready)
		m.mu.Lock()
		if m.attached[id] == at {
			delete(m.attached, id)
		}
		if st != nil {
			m.releaseStream(id)
		}
		m.mu.Unlock()
		return nil, err
	}
	close(at.ready)
	a := *at.a
	return &a, nil
}

// startOwnSandbox starts (re-attaches) the conversation's sandbox for REST calls.
func (m *Standalone) startOwnSandbox(ctx context.Context, id string, at *attachment) error {
	if m.opts.EventsOnly || m.opts.Sandboxes == nil {
		return errors.New("this server has no sandboxes")
	}
	sb, err := m.opts.Sandboxes.New(id, nil)
	if err != nil {
		return err
	}
	began := m.now()
	if err := sb.Start(ctx); err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		sb.Close(closeCtx)
		cancel()
		return fmt.Errorf("start the sandbox: %w", err)
	}
	m.opts.Metrics.SandboxStarted(m.opts.Sandboxes.Kind, m.now().Sub(began))
	at.own = sb
	at.a.Runtime, at.a.HostWorkspace = sb, sb.HostWorkspace
	return nil
}

// Detach implements Manager.
func (m *Standalone) Detach(a *Attached) {
	if a == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.attached[a.ID]
	if !ok || at.a == nil || a.Runtime == nil || a.Runtime != at.a.Runtime {
		if ok && a.Runtime == nil && at.refs > 0 { // a failed Attach giving its reference back
			at.refs--
		}
		return // borrowed from an agent loop: nothing to release
	}
	if at.refs--; at.refs <= 0 {
		at.refs = 0
		at.detached = m.now()
	}
}

// closeAttachment stops the sandbox an attachment started and releases its stream.
func (m *Standalone) closeAttachment(id string, at *attachment) {
	if at.own != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := at.own.Close(ctx); err != nil {
			m.log.Warn("could not close a sandbox opened for REST calls", "conversation_id", id, "err", err)
		}
		cancel()
	}
	if at.a != nil && at.a.Stream != nil {
		m.mu.Lock()
		m.releaseStream(id)
		m.mu.Unlock()
	}
}

// Close implements Manager: it stops the cleanup loop, every agent loop and every attachment.
func (m *Standalone) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	loops := make([]*session.Session, 0, len(m.loops))
	for id, s := range m.loops {
		loops = append(loops, s)
		m.detachLoopLocked(id)
	}
	attached := m.attached
	m.attached = map[string]*attachment{}
	m.mu.Unlock()
	close(m.stopCleanup)
	m.startOnce.Do(func() { close(m.cleanupDone) })
	<-m.cleanupDone

	var wg sync.WaitGroup
	for _, s := range loops {
		if em := m.opts.Emitter; em != nil {
			em.DisconnectRoom(s.ID())
		}
		wg.Go(func() { m.finishClose(s) })
	}
	for id, at := range attached {
		wg.Go(func() {
			<-at.ready
			m.closeAttachment(id, at)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); m.evicting.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close conversations: %w", ctx.Err())
	}
}

func (m *Standalone) cleanupInterval() time.Duration {
	iv := m.opts.CleanupInterval
	if iv <= 0 {
		iv = 15 * time.Second
		if m.closeDelay > 0 && m.closeDelay/2 < iv {
			iv = max(m.closeDelay/2, 100*time.Millisecond)
		}
	}
	return iv
}

func (m *Standalone) cleanupLoop() {
	defer close(m.cleanupDone)
	t := time.NewTicker(m.cleanupInterval())
	defer t.Stop()
	for {
		m.cleanup()
		select {
		case <-t.C:
		case <-m.stopCleanup:
			return
		}
	}
}

// cleanup closes the REST attachments nobody holds, and the agent loops idle for longer than
// sandbox.close_delay: no connection, agent not running. Their sandboxes stop; the next join
// starts them again with the history intact.
func (m *Standalone) cleanup() {
	now := m.now()
	m.mu.Lock()
	var release []string
	var rel []*attachment
	for id, at := range m.attached {
		if at.refs == 0 && !at.detached.IsZero() {
			delete(m.attached, id)
			release = append(release, id)
			rel = append(rel, at)
		}
	}
	var idle []*session.Session
	if m.closeDelay > 0 {
		for id, s := range m.loops {
			if m.hasConnLocked(id) {
				continue
			}
			in := s.Info()
			if in.AgentState == events.StateRunning {
				continue
			}
			if in.AgentState == "" && in.Lifecycle != session.Error && now.Sub(in.Created) < 90*time.Second {
				continue // still starting
			}
			since := in.LastActive
			if t, ok := m.idle[id]; ok && t.After(since) {
				since = t
			}
			if now.Sub(since) >= m.closeDelay {
				idle = append(idle, s)
				m.detachLoopLocked(id)
			}
		}
	}
	m.mu.Unlock()
	for i, id := range release {
		m.closeAttachment(id, rel[i])
	}
	for _, s := range idle {
		m.log.Info("closing an idle conversation", "conversation_id", s.ID(), "close_delay", m.closeDelay)
		m.finishClose(s)
	}
}

func (m *Standalone) hasConnLocked(id string) bool {
	for _, conv := range m.conns {
		if conv == id {
			return true
		}
	}
	return false
}

// ParseProviders splits the socket query's providers_set values ("github,gitlab") into names.
func ParseProviders(values []string) []string {
	var out []string
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
