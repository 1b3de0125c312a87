package memory

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Contents of recall observations.
const (
	contentWorkspaceContext = "Added workspace context"
	contentKnowledge        = "Retrieved knowledge from microagents"
)

// handle answers a recall action. It runs on the stream's subscriber goroutine, one event at a
// time, so recalls are answered in order.
func (m *Memory) handle(ev *events.Event) {
	action, ok := ev.Action.(*events.RecallAction)
	if !ok {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.handlers.Add(1)
	m.mu.Unlock()
	defer m.handlers.Done()

	obs, content, sent := m.answer(ev.Source, action)
	out := events.NewObservation(obs, content)
	cause := ev.ID
	out.Cause = &cause
	// The stream's append does not block on anything the conversation could cancel, and the answer
	// must be written even while the conversation is closing: the controller waits for it.
	if _, err := m.stream.Append(context.Background(), out, events.SourceEnvironment); err != nil {
		err = fmt.Errorf("answer recall %d: %w", ev.ID, err)
		m.logger.Error("recall not answered", "event_id", ev.ID, "err", err)
		if m.opts.OnError != nil {
			m.opts.OnError(err)
		}
		return
	}
	m.mu.Lock()
	for _, k := range sent {
		m.recalled[k.Name] = true
	}
	m.mu.Unlock()
}

// answer builds the observation for a recall action, with the knowledge it sends.
//
// workspace_context from the user: always a recall observation, since the runtime information (the
// date at least) is never empty. knowledge from the user or the agent: a recall observation with
// the triggered microagents not sent before in this conversation, if there are any. Anything else
// gets a null observation.
func (m *Memory) answer(source events.Source, a *events.RecallAction) (events.Observation, string, []events.MicroagentKnowledge) {
	switch {
	case a.RecallType == events.RecallWorkspaceContext && source == events.SourceUser:
		knowledge := m.triggered(a.Query, false)
		return m.workspaceContext(knowledge), contentWorkspaceContext, knowledge
	case a.RecallType == events.RecallKnowledge && (source == events.SourceUser || source == events.SourceAgent):
		knowledge := m.triggered(a.Query, true)
		if len(knowledge) == 0 {
			break
		}
		return &events.RecallObservation{
			RecallType:                events.RecallKnowledge,
			RuntimeHosts:              map[string]int{},
			CustomSecretsDescriptions: map[string]string{},
			MicroagentKnowledge:       knowledge,
		}, contentKnowledge, knowledge
	}
	return &events.NullObservation{}, "", nil
}

// workspaceContext is the recall observation of the first user message.
func (m *Memory) workspaceContext(knowledge []events.MicroagentKnowledge) *events.RecallObservation {
	o := m.opts
	obs := &events.RecallObservation{
		RecallType:                  events.RecallWorkspaceContext,
		RepoName:                    o.RepoName,
		RepoInstructions:            m.repoInstructions(),
		RuntimeHosts:                map[string]int{},
		AdditionalAgentInstructions: o.AdditionalAgentInstructions,
		Date:                        o.Now().UTC().Format(time.DateOnly),
		CustomSecretsDescriptions:   map[string]string{},
		ConversationInstructions:    o.ConversationInstructions,
		WorkingDir:                  o.WorkingDir,
		MicroagentKnowledge:         knowledge,
	}
	if o.RepoName != "" {
		obs.RepoDirectory = o.RepoDirectory
	}
	maps.Copy(obs.RuntimeHosts, o.RuntimeHosts)
	maps.Copy(obs.CustomSecretsDescriptions, o.CustomSecretsDescriptions)
	return obs
}

// repoInstructions joins the repo microagents' contents with a blank line, as OpenHands does (an
// empty first content adds no separator).
func (m *Memory) repoInstructions() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s string
	for _, a := range m.agents {
		if a.Type != TypeRepo {
			continue
		}
		if s != "" {
			s += "\n\n"
		}
		s += a.Content
	}
	return s
}

// triggered lists the knowledge and task microagents whose triggers occur in query, in load
// order; onlyNew leaves out those already sent in this conversation.
func (m *Memory) triggered(query string, onlyNew bool) []events.MicroagentKnowledge {
	knowledge := []events.MicroagentKnowledge{}
	if query == "" {
		return knowledge
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.agents {
		if onlyNew && m.recalled[a.Name] {
			continue
		}
		if trigger, ok := a.Match(query); ok {
			m.logger.Info("microagent triggered", "name", a.Name, "trigger", trigger)
			knowledge = append(knowledge, events.MicroagentKnowledge{Name: a.Name, Trigger: trigger, Content: a.Content})
		}
	}
	return knowledge
}
