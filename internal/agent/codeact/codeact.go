// Package codeact is the CodeAct agent: a model with function-calling tools (a persistent shell,
// a file editor, think, finish) that works on the user's task one action at a time. It owns the
// tool schemas and their mapping to actions, the rebuilding of chat messages from the event
// history, and the condensers that keep a long history within the model's context window.
package codeact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// Name is the agent class name, as OpenHands spells it.
const Name = "CodeActAgent"

// openHandsVersion is the version gohands is compatible with, recorded in the system event and
// sent in request metadata.
const openHandsVersion = "0.50.0"

// Options are the agent's settings that do not come from the [agent] configuration group.
type Options struct {
	// WorkspaceDir is the workspace path inside the sandbox, named in the system prompt
	// ("/workspace" when empty).
	WorkspaceDir string
	// MaxMessageChars caps the text of one observation in a prompt; longer text keeps its head and
	// tail (the LLM group's max_message_chars; 30000 when 0, no cap when negative).
	MaxMessageChars int
	// Vision sends images (user attachments, notebook plots) to the model.
	Vision bool
	// CondenserClient writes summaries for the llm condenser; nil uses the agent's own client.
	CondenserClient llm.Client
	// Condenser replaces the one the configuration selects.
	Condenser Condenser
	// WebHost is reported in the request metadata tags ("unspecified" when empty).
	WebHost string
	Logger  *slog.Logger
}

// Agent is the CodeAct agent of one conversation.
type Agent struct {
	client    llm.Client
	cfg       config.Agent
	tools     []tool
	prompt    string
	conv      conversation
	condenser Condenser
	webHost   string
	log       *slog.Logger

	// mu guards queue: Step runs on the controller's goroutine, Reset may come from another
	// (a stop).
	mu sync.Mutex
	// queue holds the remaining actions of the last response, returned one per Step.
	queue []step
}

var _ agent.Agent = (*Agent)(nil)

// New returns a CodeAct agent that talks to client, with the tools and condenser cfg enables.
func New(client llm.Client, cfg config.Agent, opts Options) *Agent {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workspace := opts.WorkspaceDir
	if workspace == "" {
		workspace = "/workspace"
	}
	maxChars := opts.MaxMessageChars
	if maxChars == 0 {
		maxChars = defaultMaxMessageChars
	}
	condenser := opts.Condenser
	if condenser == nil {
		cc := opts.CondenserClient
		if cc == nil {
			cc = client
		}
		condenser = NewCondenser(cfg.Condenser, cc, log)
	}
	webHost := opts.WebHost
	if webHost == "" {
		webHost = "unspecified"
	}
	prompt := systemPrompt(cfg, workspace)
	return &Agent{
		client:    client,
		cfg:       cfg,
		tools:     toolsFor(cfg),
		prompt:    prompt,
		conv:      conversation{cfg: cfg, systemPrompt: prompt, maxChars: maxChars, vision: opts.Vision},
		condenser: condenser,
		webHost:   webHost,
		log:       log,
	}
}

// Name implements agent.Agent.
func (a *Agent) Name() string { return Name }

// SystemMessage is the system event the controller adds at the start of a conversation: our
// prompt and the tool list in OpenAI's function format.
func (a *Agent) SystemMessage() *events.SystemMessageAction {
	version, class := openHandsVersion, Name
	return &events.SystemMessageAction{
		Content:          a.prompt,
		Tools:            systemTools(a.tools),
		OpenHandsVersion: &version,
		AgentClass:       &class,
	}
}

// Reset drops the queued actions of the last response.
func (a *Agent) Reset() {
	a.mu.Lock()
	a.queue = nil
	a.mu.Unlock()
}

// Step returns the next action: a queued one from the last response, a finish for "/exit", a
// condensation when the history must shrink, or the first action of a new LLM response.
//
// A bad tool call comes back as *agent.MalformedActionError or *agent.FunctionCallNotExistsError
// (the controller shows it to the model). When the model reports that the prompt is too long and
// the history can still shrink, the step is a condensation_request, which the next step answers.
func (a *Agent) Step(ctx context.Context, st *agent.State) (events.Action, *agent.StepInfo, error) {
	if s, ok := a.dequeue(); ok {
		return s.action, s.info, nil
	}
	if m := lastUserMessage(st.History); m != nil && strings.TrimSpace(m.Content) == "/exit" {
		return &events.AgentFinishAction{Outputs: events.RawJSON("{}")}, &agent.StepInfo{}, nil
	}

	view, condensation, err := a.condenser.Condense(ctx, NewView(st.History))
	if err != nil {
		return nil, nil, fmt.Errorf("condense history: %w", err)
	}
	if condensation == nil && view.UnhandledCondensationRequest {
		// The configured condenser does not answer requests (noop, recent, masking): halve the
		// conversation rather than overflow the context again.
		condensation = windowCondensation(view.Events)
	}
	if condensation != nil {
		return condensation, &agent.StepInfo{}, nil
	}

	resp, err := a.client.Complete(ctx, llm.Request{
		Messages: a.conv.messages(view.Events, initialUserMessage(st.History)),
		Tools:    llmTools(a.tools),
		Metadata: map[string]any{
			"session_id":    st.ConversationID,
			"trace_version": openHandsVersion,
			"tags": []string{"agent:" + Name, "web_host:" + a.webHost,
				"openhands_version:" + openHandsVersion},
		},
	})
	if err != nil {
		if errors.Is(err, llm.ErrContextWindow) && a.cfg.EnableHistoryTruncation && windowCondensation(view.Events) != nil {
			a.log.Info("codeact: prompt exceeds the context window; requesting condensation",
				"conversation_id", st.ConversationID, "view_events", len(view.Events))
			return &events.CondensationRequestAction{}, &agent.StepInfo{}, nil
		}
		return nil, nil, fmt.Errorf("LLM completion: %w", err)
	}
	steps, err := responseToActions(resp, a.tools, a.client.Model())
	if err != nil {
		return nil, nil, err
	}
	a.mu.Lock()
	a.queue = append(a.queue, steps[1:]...)
	a.mu.Unlock()
	return steps[0].action, steps[0].info, nil
}

func (a *Agent) dequeue() (step, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) == 0 {
		return step{}, false
	}
	s := a.queue[0]
	a.queue = a.queue[1:]
	return s, true
}

// initialUserMessage is the first user message of the history.
func initialUserMessage(history []*events.Event) *events.Event {
	for _, ev := range history {
		if isUserMessage(ev) {
			return ev
		}
	}
	return nil
}

// lastUserMessage is the most recent user message of the history.
func lastUserMessage(history []*events.Event) *events.MessageAction {
	for i := len(history) - 1; i >= 0; i-- {
		if isUserMessage(history[i]) {
			return history[i].Action.(*events.MessageAction)
		}
	}
	return nil
}
