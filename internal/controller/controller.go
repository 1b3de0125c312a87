package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
)

// DefaultMaxIterations is OpenHands' default max_iterations, used when Config.MaxIterations is 0.
const DefaultMaxIterations = 500

// Config tunes a Controller.
type Config struct {
	// MaxIterations bounds the steps of the conversation (0: DefaultMaxIterations).
	MaxIterations int
	// MaxBudgetPerTask bounds the accumulated LLM cost in USD (0: no limit).
	MaxBudgetPerTask float64
	// ConfirmationMode holds run and run_ipython actions until the user confirms or rejects them.
	ConfirmationMode bool
	// Headless is a run without a user at a browser: stuck detection looks at the whole history
	// and an iteration limit is not raised when the state leaves error.
	Headless bool
	Logger   *slog.Logger
	// Metrics returns the agent LLM's accumulated metrics (llm_metrics of agent actions, and the
	// budget). It is called from the controller's goroutine while the agent may be calling the
	// LLM, so it must be safe for concurrent use. Nil: no cost is known.
	Metrics func() events.Metrics
	// OnError, when set, is told of every error that puts the agent in the error state, with the
	// OpenHands runtime status id for it ("STATUS$ERROR_LLM_AUTHENTICATION", "STATUS$ERROR", …)
	// and the text shown to the user: the web session sends it as a status update.
	OnError func(statusID, message string)
}

// systemMessager is an agent that starts conversations with a system message (its prompt and
// tools), which the controller adds to the stream before anything else.
type systemMessager interface {
	SystemMessage() *events.SystemMessageAction
}

// stepSourcer is an agent some of whose actions are not its own: the replay agent returns the
// recorded user messages too, so that they are fed where they were. StepSource is the source the
// action returned by the last Step must be appended with.
type stepSourcer interface {
	StepSource() events.Source
}

// Controller drives one agent over one conversation's event stream.
type Controller struct {
	stream *events.Stream
	agent  agent.Agent
	cfg    Config
	log    *slog.Logger

	inbox   inbox
	closing chan struct{} // closed by Close: the loop stops the agent and exits
	done    chan struct{} // closed when the loop has exited (or Close ran before Start)
	ctx     context.Context
	cancel  context.CancelFunc
	steps   sync.WaitGroup // step goroutines

	// mu guards the fields below: the state as the outside sees it. state and lastError are
	// written only by the loop goroutine (under mu), which therefore reads them without it.
	mu        sync.Mutex
	state     events.AgentState
	lastError string
	changed   chan struct{} // closed and replaced at every state change
	started   bool
	closed    bool

	// The fields below are owned by the loop goroutine (and by Start before the loop runs).
	history      []*events.Event
	stuck        *detector     // Stuck over history, kept up to date
	pending      *events.Event // the action waiting for its observation, as appended
	held         *stepResult   // a step that finished while the agent was paused
	step         *stepRun      // the step in flight
	wantStep     bool
	processed    int64 // id of the last event handled
	waitFor      int64 // id of the last event this controller appended
	firstUserMsg int64 // id of the first user message, -1 before it
	limits       limits
	obsMetrics   events.Metrics // llm_metrics merged from observations (the draft editor's)
	extra        map[string]any // agent.State.Extra, kept across steps

	afterStep func() // tests: called on the loop after a step's result was handled
}

// New makes a controller for ag on stream; Start runs it.
func New(stream *events.Stream, ag agent.Agent, cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxIterations <= 0 {
		cfg.MaxIterations = DefaultMaxIterations
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{
		stream:       stream,
		agent:        ag,
		cfg:          cfg,
		log:          cfg.Logger.With("conversation_id", stream.ConversationID()),
		closing:      make(chan struct{}),
		done:         make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
		state:        events.StateLoading,
		changed:      make(chan struct{}),
		waitFor:      -1,
		processed:    -1,
		firstUserMsg: -1,
		limits:       newLimits(cfg),
		stuck:        newDetector(cfg.Headless),
		extra:        map[string]any{},
	}
	c.inbox.signal = make(chan struct{}, 1)
	return c
}

// ErrClosed is returned by Start after Close, and by Wait when the controller closes before the
// state it waits for.
var ErrClosed = errors.New("agent controller is closed")

// Start rebuilds the history from the stream (a resumed conversation), adds the agent's system
// message to a new one, subscribes to the events that follow and starts the loop.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.started {
		c.mu.Unlock()
		return errors.New("agent controller already started")
	}
	c.started = true
	c.mu.Unlock()

	latest := c.stream.LatestID()
	begun, err := c.rebuild(ctx, latest)
	if err != nil {
		close(c.done)
		return err
	}
	if sm, ok := c.agent.(systemMessager); ok && !begun {
		if msg := sm.SystemMessage(); msg != nil && msg.Content != "" {
			if _, err := c.stream.Append(ctx, events.NewAction(msg), events.SourceAgent); err != nil {
				close(c.done)
				return fmt.Errorf("start agent controller: add system message: %w", err)
			}
		}
	}
	c.processed = latest
	if err := c.stream.Subscribe(events.SubscriberAgentController, c.inbox.put, latest+1); err != nil {
		close(c.done)
		return fmt.Errorf("start agent controller: %w", err)
	}
	go c.loop()
	return nil
}

// State is the agent's current state.
func (c *Controller) State() events.AgentState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// LastError is the text of the error that last put the agent in the error state.
func (c *Controller) LastError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastError
}

// EndStates are the states Wait waits for by default: the agent will not act again on its own.
var EndStates = []events.AgentState{events.StateFinished, events.StateRejected, events.StateError, events.StateStopped}

// Wait returns when the agent is in one of states (EndStates when none are given), with that
// state; or with ctx's error; or with ErrClosed when the controller closed first.
func (c *Controller) Wait(ctx context.Context, states ...events.AgentState) (events.AgentState, error) {
	if len(states) == 0 {
		states = EndStates
	}
	for {
		c.mu.Lock()
		st, changed := c.state, c.changed
		c.mu.Unlock()
		if slices.Contains(states, st) {
			return st, nil
		}
		select {
		case <-changed:
		case <-c.done:
			if st := c.State(); slices.Contains(states, st) {
				return st, nil
			}
			return c.State(), ErrClosed
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
}

// Close stops the agent (state stopped, an in-flight step cancelled and awaited), unsubscribes and
// returns when the loop has ended, or with ctx's error if that takes too long (an agent that
// ignores cancellation); the loop then still ends on its own.
func (c *Controller) Close(ctx context.Context) error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if first {
		close(c.closing)
		if !started {
			close(c.done)
		}
	}
	var err error
	select {
	case <-c.done:
	case <-ctx.Done():
		err = fmt.Errorf("close agent controller: %w", ctx.Err())
	}
	c.stream.Unsubscribe(events.SubscriberAgentController)
	if err == nil {
		c.steps.Wait()
		c.cancel()
	}
	return err
}

// publish makes a new state visible to State and Wait.
func (c *Controller) publish(st events.AgentState, lastError string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = st
	c.lastError = lastError
	close(c.changed)
	c.changed = make(chan struct{})
}

// loop is the single owner of the controller's state: it handles the events the stream delivers,
// the results of steps, and Close.
func (c *Controller) loop() {
	defer close(c.done)
	defer c.cancel()
	for {
		var stepDone <-chan stepResult
		if c.step != nil {
			stepDone = c.step.done
		}
		select {
		case <-c.inbox.signal:
			for _, ev := range c.inbox.take() {
				c.onEvent(ev)
			}
		case res := <-stepDone:
			c.step = nil
			c.finishStep(res)
			if c.afterStep != nil {
				c.afterStep()
			}
		case <-c.closing:
			c.setState(events.StateStopped)
			return
		}
		c.maybeStep()
	}
}

// inbox carries events from the stream's subscriber goroutine to the loop without ever blocking
// the subscriber.
type inbox struct {
	signal chan struct{} // capacity 1: "something was queued"

	// mu guards evs and spare.
	mu    sync.Mutex
	evs   []*events.Event
	spare []*events.Event
}

func (q *inbox) put(ev *events.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take returns the queued events; the slice is valid until the next take.
func (q *inbox) take() []*events.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.evs
	clear(q.spare)
	q.evs, q.spare = q.spare[:0], evs
	return evs
}

// append adds an event the controller produces and remembers its id: the controller does not
// step before it has seen its own events come back.
func (c *Controller) append(ev *events.Event, source events.Source) bool {
	id, err := c.stream.Append(c.ctx, ev, source)
	if err != nil {
		level := slog.LevelError
		if errors.Is(err, events.ErrClosed) || c.ctx.Err() != nil {
			level = slog.LevelDebug
		}
		c.log.Log(c.ctx, level, "agent controller could not add an event", "type", ev.Type(), "err", err)
		return false
	}
	c.waitFor = id
	return true
}
