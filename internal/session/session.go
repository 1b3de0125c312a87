package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/agent/codeact"
	"github.com/gohands/gohands/internal/agent/replay"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/controller"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/memory"
	"github.com/gohands/gohands/internal/metrics"
	"github.com/gohands/gohands/internal/storage"
)

// Emitter delivers oh_event payloads to client connections: the Socket.IO server, or later a
// fan-out across machines. Calls for one connection or room are delivered in call order.
type Emitter interface {
	// EmitTo sends a payload to one connection.
	EmitTo(connID string, payload []byte)
	// EmitRoom sends a payload to every connection that joined the conversation.
	EmitRoom(conversationID string, payload []byte)
	// JoinRoom adds a connection to the conversation's room.
	JoinRoom(connID, conversationID string)
	// DisconnectRoom disconnects every connection of the room, server-side.
	DisconnectRoom(conversationID string)
}

// Lifecycle is where an agent session is in its life.
type Lifecycle string

// The lifecycle: Created → Initializing → RuntimeSetup → AgentSetup → MemorySetup →
// ControllerSetup → Ready → Running → Closing → Closed, or Error from any setup step.
const (
	Created         Lifecycle = "created"
	Initializing    Lifecycle = "initializing"
	RuntimeSetup    Lifecycle = "runtime_setup"
	AgentSetup      Lifecycle = "agent_setup"
	MemorySetup     Lifecycle = "memory_setup"
	ControllerSetup Lifecycle = "controller_setup"
	Ready           Lifecycle = "ready"
	Running         Lifecycle = "running"
	Closing         Lifecycle = "closing"
	Closed          Lifecycle = "closed"
	Error           Lifecycle = "error"
)

// Runtime status ids sent to clients (OpenHands' RuntimeStatus values; the UI translates them).
const (
	StatusStartingRuntime     = "STATUS$STARTING_RUNTIME"
	StatusRuntimeStarted      = "STATUS$RUNTIME_STARTED"
	StatusReady               = "STATUS$READY"
	StatusError               = "STATUS$ERROR"
	StatusRuntimeDisconnected = "STATUS$ERROR_RUNTIME_DISCONNECTED"
	StatusMemoryError         = "STATUS$ERROR_MEMORY"
)

// Options configure a Session.
type Options struct {
	ConversationID string
	UserID         string
	Config         *config.Config
	Store          *storage.Store
	Sandboxes      *Sandboxes
	// Stream is the conversation's event stream, shared with whoever else reads it; the session
	// does not close it. Nil: the session opens (and closes) its own.
	Stream *events.Stream
	// Emitter reaches the conversation's connections; nil sends nothing.
	Emitter Emitter
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// NewAgent replaces the agent built from the settings (tests and benchmarks). It returns the
	// agent and the source of its LLM metrics (may be nil).
	NewAgent func(workspaceDir string) (agent.Agent, func() events.Metrics, error)
	// EventsOnly runs the session without sandbox, agent or memory: client events are stored and
	// forwarded, nothing acts on them (benchmarks of the event path).
	EventsOnly bool
	// MetadataInterval is how often the conversation's metadata is saved while events arrive
	// (default 1 s; always saved on close).
	MetadataInterval time.Duration
	Now              func() time.Time
}

// StartSpec is what the agent session starts with.
type StartSpec struct {
	// Settings are the stored user settings (LLM, agent, limits); required.
	Settings *storage.Settings
	// Secrets are the custom secrets (masked in events, given to the sandbox as environment).
	Secrets                  *storage.Secrets
	InitialMessage           *events.MessageAction
	ReplayJSON               string
	ConversationInstructions string
	SelectedRepository       string
}

// Session is one conversation's agent loop as the web server runs it: the event stream, the
// sandbox with its runtime bridge, the agent with its controller, the memory, and the forwarding
// of events to the conversation's connections.
type Session struct {
	id   string
	opts Options
	log  *slog.Logger
	now  func() time.Time

	stream    *events.Stream
	ownStream bool

	startCtx    context.Context
	cancelStart context.CancelFunc
	startDone   chan struct{}

	// mu guards the fields below.
	mu            sync.Mutex
	lifecycle     Lifecycle
	runtimeStatus string
	lastError     string
	lastActive    time.Time
	created       time.Time
	sb            *Sandbox
	bridge        *RuntimeBridge
	mem           *memory.Memory
	ctrl          *controller.Controller
	vision        bool
	started       bool
	closing       bool
	// held are client events that arrived before the controller was listening (they are
	// appended once it is, or at close/failure, so none is lost or left unanswered); ready tells
	// Dispatch to append directly.
	held  []*events.Event
	ready bool

	// dispatchMu orders client events: held ones are appended before any later one.
	dispatchMu sync.Mutex

	// fwdMu orders room emissions against joins: a joining connection gets the stored events up
	// to forwarded, then every later one from the room, with no gap and no duplicate.
	fwdMu     sync.Mutex
	forwarded int64

	meta *metaUpdater
}

// New opens the conversation's event stream and subscribes the forwarder; Start begins the agent.
func New(opts Options) (*Session, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MetadataInterval <= 0 {
		opts.MetadataInterval = time.Second
	}
	id := opts.ConversationID
	log := opts.Logger.With("conversation_id", id)
	s := &Session{id: id, opts: opts, log: log, now: opts.Now, startDone: make(chan struct{}),
		lifecycle: Created, stream: opts.Stream}
	if s.stream == nil {
		elog, err := opts.Store.OpenEventLog(id)
		if err != nil {
			return nil, err
		}
		s.stream = events.NewStream(id, elog, events.StreamOptions{Logger: log, Now: opts.Now})
		s.ownStream = true
	}
	s.created = s.now()
	s.lastActive = s.created
	s.startCtx, s.cancelStart = context.WithCancel(context.Background())
	s.meta = newMetaUpdater(s)
	s.forwarded = s.stream.LatestID()
	if err := s.stream.SubscribeRaw(events.SubscriberServer, s.forward, s.forwarded+1); err != nil {
		if s.ownStream {
			s.stream.Close()
		}
		s.meta.close()
		return nil, err
	}
	return s, nil
}

// ID is the conversation id.
func (s *Session) ID() string { return s.id }

// UserID is the owner ("" in single-user mode).
func (s *Session) UserID() string { return s.opts.UserID }

// Stream is the conversation's event stream.
func (s *Session) Stream() *events.Stream { return s.stream }

// Sandbox is the session's sandbox, nil before it is made or without one.
func (s *Session) Sandbox() *Sandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sb
}

// Info is a snapshot of the session's state.
type Info struct {
	Lifecycle     Lifecycle
	RuntimeStatus string
	AgentState    events.AgentState // "" before the controller exists
	LastError     string
	LastActive    time.Time
	Created       time.Time
}

// Info describes the session now.
func (s *Session) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := Info{Lifecycle: s.lifecycle, RuntimeStatus: s.runtimeStatus, LastError: s.lastError,
		LastActive: s.lastActive, Created: s.created}
	if s.ctrl != nil {
		in.AgentState = s.ctrl.State()
	}
	return in
}

// Microagents lists the microagents the memory loaded; ok is false before the memory is ready.
func (s *Session) Microagents() (_ []*memory.Microagent, ok bool) {
	s.mu.Lock()
	mem := s.mem
	s.mu.Unlock()
	if mem == nil {
		return nil, false
	}
	agents := mem.Microagents()
	out := make([]*memory.Microagent, len(agents))
	for i := range agents {
		out[i] = &agents[i]
	}
	return out, true
}

// Start sets the agent up in the background, reporting each step to the connections.
func (s *Session) Start(spec StartSpec) {
	s.mu.Lock()
	if s.started || s.closing {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	go func() {
		defer close(s.startDone)
		s.run(s.startCtx, spec)
	}()
}

func (s *Session) setLifecycle(l Lifecycle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing && l != Closing && l != Closed {
		return
	}
	s.lifecycle = l
}

// run is the start sequence.
func (s *Session) run(ctx context.Context, spec StartSpec) {
	s.setLifecycle(Initializing)
	if _, err := s.stream.Append(ctx, events.NewObservation(&events.AgentStateChangedObservation{AgentState: events.StateLoading}, ""),
		events.SourceEnvironment); err != nil {
		s.fail(ctx, "could not write the conversation's events", err)
		return
	}
	if s.opts.EventsOnly {
		s.setLifecycle(Ready)
		s.stream.Append(ctx, events.NewObservation(&events.AgentStateChangedObservation{AgentState: events.StateAwaitingUserInput}, ""),
			events.SourceEnvironment)
		return
	}
	secretValues, secretEnv, secretDescriptions := customSecrets(spec.Secrets)
	if len(secretValues) > 0 {
		s.stream.SetSecrets(secretValues)
	}

	s.setLifecycle(RuntimeSetup)
	workspaceDir, hostWorkspace := "/workspace", ""
	{
		sb, err := s.opts.Sandboxes.New(s.id, secretEnv)
		if err != nil {
			s.fail(ctx, "could not prepare the sandbox", err)
			return
		}
		s.mu.Lock()
		s.sb = sb
		s.mu.Unlock()
		s.setRuntimeStatus(StatusStartingRuntime, "")
		began := s.now()
		if err := sb.Start(ctx); err != nil {
			s.failStatus(ctx, StatusRuntimeDisconnected, "could not start the sandbox", err)
			return
		}
		s.opts.Metrics.SandboxStarted(s.opts.Sandboxes.Kind, s.now().Sub(began))
		s.setRuntimeStatus(StatusRuntimeStarted, "")
		bridge := NewRuntimeBridge(s.stream, sb, s.log)
		if err := bridge.Start(); err != nil {
			s.fail(ctx, "could not connect the sandbox", err)
			return
		}
		s.mu.Lock()
		s.bridge = bridge
		s.mu.Unlock()
		workspaceDir, hostWorkspace = sb.Info().WorkspaceDir, sb.HostWorkspace
	}

	s.setLifecycle(AgentSetup)
	ag, agentMetrics, err := s.makeAgent(spec, workspaceDir)
	if err != nil {
		s.fail(ctx, "could not set the agent up", err)
		return
	}

	s.setLifecycle(MemorySetup)
	memOpts := memory.Options{GlobalDir: filepath.Join(s.opts.Store.Root(), "microagents"), WorkingDir: workspaceDir,
		RepoName: spec.SelectedRepository, CustomSecretsDescriptions: secretDescriptions,
		ConversationInstructions: spec.ConversationInstructions, Logger: s.log,
		DisabledMicroagents: s.opts.Config.Agent.DisabledMicroagents,
		OnError: func(err error) {
			s.emitStatus("error", StatusMemoryError, "Error: "+err.Error())
		}}
	if hostWorkspace != "" {
		memOpts.Workspace = memory.DirWorkspace(hostWorkspace)
	}
	mem := memory.New(s.stream, memOpts)
	if err := mem.Start(ctx); err != nil {
		s.fail(ctx, "could not load the microagents", err)
		return
	}
	s.mu.Lock()
	s.mem = mem
	s.mu.Unlock()

	s.setLifecycle(ControllerSetup)
	st := spec.Settings
	maxIter := s.opts.Config.Core.MaxIterations
	if st != nil && st.MaxIterations != nil && *st.MaxIterations > 0 {
		maxIter = *st.MaxIterations
	}
	var budget float64
	if b := s.opts.Config.Core.MaxBudgetPerTask; b != nil {
		budget = *b
	}
	if st != nil && st.MaxBudgetPerTask != nil && *st.MaxBudgetPerTask > 0 {
		budget = *st.MaxBudgetPerTask
	}
	confirm := s.opts.Config.Security.ConfirmationMode
	if st != nil && st.ConfirmationMode != nil {
		confirm = *st.ConfirmationMode
	}
	ctrl := controller.New(s.stream, ag, controller.Config{MaxIterations: maxIter, MaxBudgetPerTask: budget,
		ConfirmationMode: confirm, Logger: s.log, Metrics: agentMetrics,
		OnError: func(statusID, message string) { s.emitStatus("error", statusID, message) }})
	if err := ctrl.Start(ctx); err != nil {
		s.fail(ctx, "could not start the agent", err)
		return
	}
	s.mu.Lock()
	s.ctrl = ctrl
	s.mu.Unlock()

	s.setLifecycle(Ready)
	s.setRuntimeStatus(StatusReady, "")
	first := spec.InitialMessage
	if rp, ok := ag.(*replay.Agent); ok && first == nil {
		first = rp.InitialMessage()
	}
	if first != nil {
		if first.ImageURLs == nil {
			first.ImageURLs = []string{}
		}
		if _, err := s.stream.Append(ctx, events.NewAction(first), events.SourceUser); err != nil {
			s.fail(ctx, "could not write the first message", err)
			return
		}
		s.stream.Append(ctx, events.NewAction(&events.ChangeAgentStateAction{AgentState: events.StateRunning}), events.SourceEnvironment)
		s.releaseHeld(ctx)
		return
	}
	// Messages sent while the agent was being set up start it, as the first message would.
	if s.releaseHeld(ctx) == 0 {
		s.stream.Append(ctx, events.NewAction(&events.ChangeAgentStateAction{AgentState: events.StateAwaitingUserInput}), events.SourceEnvironment)
	}
}

// customSecrets returns the values to mask, the sandbox environment and the descriptions.
func customSecrets(sec *storage.Secrets) (values, env, descriptions map[string]string) {
	values, env, descriptions = map[string]string{}, map[string]string{}, map[string]string{}
	if sec == nil {
		return
	}
	for name, cs := range sec.CustomSecrets {
		values[name] = cs.Secret
		env[name] = cs.Secret
		descriptions[name] = cs.Description
	}
	for name, tok := range sec.ProviderTokens {
		if tok.Token != "" {
			values[name+"_token"] = tok.Token
		}
	}
	return
}

// makeAgent builds the agent from the settings: CodeAct over the configured LLM, or the replay
// agent for a trajectory.
func (s *Session) makeAgent(spec StartSpec, workspaceDir string) (agent.Agent, func() events.Metrics, error) {
	if s.opts.NewAgent != nil {
		return s.opts.NewAgent(workspaceDir)
	}
	if spec.ReplayJSON != "" {
		traj, err := replay.Load(strings.NewReader(spec.ReplayJSON))
		if err != nil {
			return nil, nil, fmt.Errorf("the trajectory to replay: %w", err)
		}
		return replay.New(traj), nil, nil
	}
	if st := spec.Settings; st != nil && st.Agent != nil && *st.Agent != "" && *st.Agent != "CodeActAgent" {
		return nil, nil, fmt.Errorf("agent %q is not available in gohands; choose CodeActAgent in the settings", *st.Agent)
	}
	llmCfg := LLMConfig(s.opts.Config, spec.Settings)
	client, err := llm.New(llmCfg, llm.Options{Logger: s.log})
	if err != nil {
		return nil, nil, fmt.Errorf("LLM %q: %w", llmCfg.Model, err)
	}
	vision := llmCfg.DisableVision == nil || !*llmCfg.DisableVision
	s.mu.Lock()
	s.vision = vision
	s.mu.Unlock()
	ag := codeact.New(client, s.opts.Config.Agent, codeact.Options{WorkspaceDir: workspaceDir, Vision: vision, Logger: s.log})
	return ag, client.Metrics().Snapshot, nil
}

// fail ends a start that could not complete: what was started is stopped, the error is stored in
// the conversation (an agent_state_changed to error, which the UI shows as a banner and a reload
// shows again) and sent to the connections.
func (s *Session) fail(ctx context.Context, what string, err error) {
	s.failStatus(ctx, StatusError, what, err)
}

func (s *Session) failStatus(ctx context.Context, statusID, what string, err error) {
	if ctx.Err() != nil {
		return // closing: nobody is waiting for the start
	}
	msg := fmt.Sprintf("Failed to create agent session: %s: %v", what, err)
	s.log.Error("agent session failed to start", "step", what, "err", err)
	s.mu.Lock()
	s.lifecycle = Error
	s.lastError = msg
	bridge, sb, mem := s.bridge, s.sb, s.mem
	s.bridge, s.mem = nil, nil
	s.mu.Unlock()
	if statusID == StatusRuntimeDisconnected {
		s.mu.Lock()
		s.runtimeStatus = statusID
		s.mu.Unlock()
	}
	s.emitStatus("error", statusID, msg)
	s.emitPayload(errorPayload(msg))
	s.releaseHeld(context.WithoutCancel(ctx)) // stored, so that the user's words are not lost
	s.stream.Append(context.WithoutCancel(ctx), events.NewObservation(&events.AgentStateChangedObservation{
		AgentState: events.StateError, Reason: msg}, ""), events.SourceEnvironment)
	if mem != nil {
		mem.Close()
	}
	if bridge != nil {
		bridge.Close()
	}
	if sb != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		sb.Close(closeCtx)
		cancel()
	}
}

// ErrNotAccepted wraps the reasons a client's event is refused; its text is for the client.
var ErrNotAccepted = errors.New("event not accepted")

// Dispatch appends an event sent by a client (an oh_user_action payload) to the stream, as the
// user's, and returns once it is durable. The error says why it was refused, in words for the user.
func (s *Session) Dispatch(ctx context.Context, data []byte) error {
	return s.dispatch(ctx, data, true)
}

// Post is Dispatch without waiting for the disk: the event has its place in the stream when Post
// returns, and reaches the room once it is durable. A socket's reader uses it, so that a client's
// next message is read (and joins the same sync) while the previous one is being written.
func (s *Session) Post(ctx context.Context, data []byte) error {
	return s.dispatch(ctx, data, false)
}

func (s *Session) dispatch(ctx context.Context, data []byte, wait bool) error {
	ev, err := events.Decode(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotAccepted, err)
	}
	if ev.ID >= 0 {
		return fmt.Errorf("%w: an event sent by a client must not carry an id", ErrNotAccepted)
	}
	s.mu.Lock()
	lc, lastErr, vision, hasCtrl := s.lifecycle, s.lastError, s.vision, s.ctrl != nil
	s.mu.Unlock()
	switch lc {
	case Error:
		return fmt.Errorf("%w: the agent could not start (%s); stop the conversation and start it again", ErrNotAccepted, lastErr)
	case Closing, Closed:
		return fmt.Errorf("%w: the conversation is closing", ErrNotAccepted)
	}
	if m, ok := ev.Action.(*events.MessageAction); ok {
		if len(m.ImageURLs) > 0 && hasCtrl && !vision {
			return fmt.Errorf("%w: Support for images is disabled for this model, try without an image.", ErrNotAccepted)
		}
		if m.ImageURLs == nil {
			m.ImageURLs = []string{}
		}
	}
	ev.Timestamp = ""
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.mu.Lock()
	if !s.ready && !s.opts.EventsOnly {
		s.held = append(s.held, ev)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if wait {
		_, err = s.stream.Append(ctx, ev, events.SourceUser)
	} else {
		_, err = s.stream.Post(ev, events.SourceUser)
	}
	return err
}

// releaseHeld appends the client events held during setup, in order, and lets later ones through
// directly. It reports how many there were.
func (s *Session) releaseHeld(ctx context.Context) int {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.mu.Lock()
	held := s.held
	s.held, s.ready = nil, true
	s.mu.Unlock()
	for _, ev := range held {
		if _, err := s.stream.Append(ctx, ev, events.SourceUser); err != nil {
			s.log.Error("a held client event could not be written", "err", err)
		}
	}
	return len(held)
}

// Close stops the agent, the runtime bridge and the memory, closes the stream (every event
// written is forwarded first), closes the sandbox (stopped, or kept running per
// sandbox.keep_runtime_alive) and saves the metadata. It is idempotent.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.startDone
		return nil
	}
	s.closing = true
	started := s.started
	s.lifecycle = Closing
	s.mu.Unlock()
	s.cancelStart()
	if started {
		<-s.startDone
	} else {
		close(s.startDone)
	}
	s.mu.Lock()
	ctrl, mem, bridge, sb := s.ctrl, s.mem, s.bridge, s.sb
	s.mu.Unlock()
	var errs []error
	if ctrl != nil {
		if err := ctrl.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if mem != nil {
		mem.Close()
	}
	if bridge != nil {
		bridge.Close()
	}
	s.releaseHeld(context.WithoutCancel(ctx)) // stored unanswered rather than lost
	if s.ownStream {
		if err := s.stream.Close(); err != nil { // delivers what was written, then stops
			errs = append(errs, err)
		}
	} else {
		// The stream stays open for others: let the forwarder reach what was written first, so
		// that the metadata counts the last events.
		s.waitForwarded(ctx, s.stream.LatestID())
		s.stream.Unsubscribe(events.SubscriberServer)
	}
	if sb != nil {
		if err := sb.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.meta.close()
	s.mu.Lock()
	s.lifecycle = Closed
	s.mu.Unlock()
	return errors.Join(errs...)
}

// waitForwarded waits, for a few seconds at most, until the forwarder has handled event id.
func (s *Session) waitForwarded(ctx context.Context, id int64) {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		s.fwdMu.Lock()
		done := s.forwarded >= id
		s.fwdMu.Unlock()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			s.log.Warn("closing before every event was forwarded", "event_id", id)
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// LLMConfig is the LLM a conversation uses: the agent's LLM section of cfg, with the model, API
// key and base URL of the user's settings (st may be nil) where they are set.
func LLMConfig(cfg *config.Config, st *storage.Settings) config.LLM {
	llmCfg := cfg.LLMConfig(cfg.Agent.LLMConfig)
	if st == nil {
		return llmCfg
	}
	if st.LLMModel != nil && *st.LLMModel != "" {
		llmCfg.Model = *st.LLMModel
	}
	if st.LLMAPIKey != nil && *st.LLMAPIKey != "" {
		llmCfg.APIKey = config.NewSecret(*st.LLMAPIKey)
	}
	if st.LLMBaseURL != nil && *st.LLMBaseURL != "" {
		llmCfg.BaseURL = *st.LLMBaseURL
	}
	return llmCfg
}
