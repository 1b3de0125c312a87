package codeact

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// conversation turns a view of the history into chat messages, following OpenHands'
// ConversationMemory so that a model sees the same conversation shape from either backend:
// tool-call actions become one assistant message per LLM response carrying all of its tool calls,
// observations with tool metadata become tool messages answering them, everything else becomes
// user or assistant text.
type conversation struct {
	cfg          config.Agent
	systemPrompt string
	maxChars     int
	vision       bool
}

// pendingCall is an assistant message waiting for the results of its tool calls.
type pendingCall struct {
	msg llm.Message
}

// resultless are tools whose calls never get an observation: their actions are handled by the
// controller or the condenser. Their calls are left out of rebuilt assistant messages so that the
// other calls of the same response still pair with their results (OpenHands would drop the whole
// response).
func resultless(name string) bool { return name == toolFinish || name == toolRequestCondensation }

// messages builds the request messages. initial is the conversation's first user message
// (from the full history), put back at index 1 when condensation left it out.
func (c *conversation) messages(view []*events.Event, initial *events.Event) []llm.Message {
	evs := c.ensureStart(view, initial)

	var out []llm.Message
	pending := map[string]*pendingCall{}
	var order []string // response ids in first-seen order
	results := map[string]llm.Message{}
	for i, ev := range evs {
		var add []llm.Message
		if ev.Action != nil {
			add = c.action(ev, pending, &order)
		} else {
			add = c.observation(ev, i, evs, results)
		}
		// Emit every assistant message whose calls are all answered, then the answers.
		kept := order[:0]
		for _, key := range order {
			p := pending[key]
			if !answered(p.msg, results) {
				kept = append(kept, key)
				continue
			}
			add = append(add, p.msg)
			for _, tc := range p.msg.ToolCalls {
				add = append(add, results[tc.ID])
				delete(results, tc.ID)
			}
			delete(pending, key)
		}
		order = kept
		out = append(out, add...)
	}
	out = filterUnmatched(out)
	separateUserMessages(out)
	markCache(out)
	return out
}

// ensureStart makes the list begin with a system event and the initial user message.
func (c *conversation) ensureStart(view []*events.Event, initial *events.Event) []*events.Event {
	evs := make([]*events.Event, 0, len(view)+2)
	hasSystem := false
	for _, ev := range view {
		if _, ok := ev.Action.(*events.SystemMessageAction); ok {
			hasSystem = true
			break
		}
	}
	if !hasSystem {
		evs = append(evs, events.NewAction(&events.SystemMessageAction{Content: c.systemPrompt}))
	}
	evs = append(evs, view...)
	if initial == nil {
		return evs
	}
	if len(evs) == 1 || !isUserMessage(evs[1]) {
		evs = append(evs[:1], append([]*events.Event{initial}, evs[1:]...)...)
	}
	return evs
}

func isUserMessage(ev *events.Event) bool {
	_, ok := ev.Action.(*events.MessageAction)
	return ok && ev.Source == events.SourceUser
}

func answered(m llm.Message, results map[string]llm.Message) bool {
	for _, tc := range m.ToolCalls {
		if _, ok := results[tc.ID]; !ok {
			return false
		}
	}
	return true
}

func textMessage(role, text string) llm.Message {
	return llm.Message{Role: role, Content: llm.Text(text)}
}

func roleOf(ev *events.Event) string {
	if ev.Source == events.SourceUser {
		return llm.RoleUser
	}
	return llm.RoleAssistant
}

// action renders an action, or remembers the assistant message of a tool call.
func (c *conversation) action(ev *events.Event, pending map[string]*pendingCall, order *[]string) []llm.Message {
	switch a := ev.Action.(type) {
	case *events.SystemMessageAction:
		return []llm.Message{textMessage(llm.RoleSystem, a.Content)}
	case *events.AgentDelegateAction, *events.AgentThinkAction, *events.IPythonRunCellAction,
		*events.FileEditAction, *events.FileReadAction, *events.BrowseInteractiveAction,
		*events.BrowseURLAction, *events.MCPAction, *events.CmdRunAction:
		if run, ok := a.(*events.CmdRunAction); ok && ev.Source != events.SourceAgent {
			if ev.Source == events.SourceUser {
				return []llm.Message{textMessage(llm.RoleUser, "The user ran this command in the shell:\n"+run.Command)}
			}
			return nil
		}
		md := ev.ToolCallMetadata
		if md == nil {
			if ev.Source == events.SourceUser {
				return []llm.Message{textMessage(llm.RoleUser, "The user asked for this action: "+describeAction(a))}
			}
			return []llm.Message{textMessage(llm.RoleAssistant, describeAction(a))}
		}
		key, msg := assistantMessage(md)
		if _, seen := pending[key]; !seen {
			*order = append(*order, key)
		}
		pending[key] = &pendingCall{msg: msg}
		return nil
	case *events.AgentFinishAction:
		return finishMessage(ev, a)
	case *events.MessageAction:
		role := roleOf(ev)
		content := llm.Text(a.Content)
		if c.vision {
			for i, url := range a.ImageURLs {
				if strings.TrimSpace(url) == "" {
					continue
				}
				if role == llm.RoleUser {
					content = append(content, llm.ContentPart{Type: "text", Text: "Image " + strconv.Itoa(i+1) + ":"})
				}
				content = append(content, llm.ContentPart{Type: "image_url", ImageURL: url})
			}
		}
		return []llm.Message{{Role: role, Content: content}}
	}
	// recall, change_agent_state, reject, null, write and condensation actions say nothing.
	return nil
}

// finishMessage is the agent's closing words: the action's thought with the response's text
// appended when it differs, and the final message given to finish when the text does not
// already contain it (OpenHands leaves that one out, and the model then forgets what it told the
// user).
func finishMessage(ev *events.Event, a *events.AgentFinishAction) []llm.Message {
	text := a.Thought
	if md := ev.ToolCallMetadata; md != nil {
		mr := parseModelResponse(md.ModelResponse)
		content := mr.text()
		// When other calls came with this finish, the text already went with them.
		if mr.onlyResultless() && content != text {
			if text == "" {
				text = content
			} else {
				text += "\n" + content
			}
		}
	}
	if final := strings.TrimSpace(a.FinalThought); final != "" && !strings.Contains(text, final) {
		if text != "" {
			text += "\n\n"
		}
		text += a.FinalThought
	}
	if text == "" {
		return nil
	}
	return []llm.Message{textMessage(roleOf(ev), text)}
}

// assistantMessage rebuilds the assistant message of the response a tool call came from, keyed by
// the response id.
func assistantMessage(md *events.ToolCallMetadata) (string, llm.Message) {
	mr := parseModelResponse(md.ModelResponse)
	key := mr.ID
	if key == "" {
		key = string(md.ModelResponse)
	}
	msg := llm.Message{Role: llm.RoleAssistant}
	if t := mr.text(); strings.TrimSpace(t) != "" {
		msg.Content = llm.Text(t)
	}
	found := false
	for _, tc := range mr.toolCalls() {
		if resultless(tc.Name) {
			continue
		}
		found = found || tc.ID == md.ToolCallID
		msg.ToolCalls = append(msg.ToolCalls, tc)
	}
	if !found { // a response that does not list the call: keep the call answerable
		msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: md.ToolCallID, Name: md.FunctionName, Arguments: "{}"})
	}
	return key, msg
}

// observation renders an observation as a user message, or records it as the tool result of its
// call.
func (c *conversation) observation(ev *events.Event, i int, evs []*events.Event, results map[string]llm.Message) []llm.Message {
	max := c.maxChars
	var content []llm.ContentPart
	switch o := ev.Observation.(type) {
	case *events.CmdOutputObservation:
		text := renderRun(o)
		if ev.ToolCallMetadata == nil {
			text = userRanCommand + text
		}
		content = llm.Text(truncate(text, max))
	case *events.IPythonRunCellObservation:
		content = llm.Text(truncate(renderIPython(o.Content), max))
		if c.vision {
			for _, url := range o.ImageURLs {
				if strings.TrimSpace(url) != "" {
					content = append(content, llm.ContentPart{Type: "image_url", ImageURL: url})
				}
			}
		}
	case *events.FileReadObservation, *events.BrowserOutputObservation:
		content = llm.Text(ev.Content()) // the editor and the browser already bound their output
	case *events.AgentDelegateObservation:
		text := ev.Content()
		var outputs struct {
			Content *string `json:"content"`
		}
		if json.Unmarshal(o.Outputs, &outputs) == nil && outputs.Content != nil {
			text = *outputs.Content
		}
		content = llm.Text(truncate(text, max))
	case *events.ErrorObservation:
		content = llm.Text(truncate(o.Content, max) + errorTrailer)
	case *events.UserRejectObservation:
		content = llm.Text(rejectedPrefix + truncate(o.Content, max) + rejectedSuffix)
	case *events.RecallObservation:
		content = c.recall(o, i, evs)
		if content == nil {
			return nil
		}
	case *events.NullObservation, *events.AgentStateChangedObservation:
		return nil
	default:
		// edit, think, condense, mcp, download, success, write: their content.
		content = llm.Text(truncate(ev.Content(), max))
	}
	if md := ev.ToolCallMetadata; md != nil {
		results[md.ToolCallID] = llm.Message{Role: llm.RoleTool, Content: content, ToolCallID: md.ToolCallID, Name: md.FunctionName}
		return nil
	}
	return []llm.Message{{Role: llm.RoleUser, Content: content}}
}

// recall renders workspace context and microagent knowledge, or nil when there is nothing to add.
func (c *conversation) recall(o *events.RecallObservation, i int, evs []*events.Event) []llm.ContentPart {
	if !c.cfg.EnablePromptExtensions {
		return nil
	}
	var agents []events.MicroagentKnowledge
	for _, m := range o.MicroagentKnowledge {
		if o.RecallType == events.RecallKnowledge && c.seenMicroagent(m.Name, evs[:i]) {
			continue // already in the conversation
		}
		if !c.disabled(m.Name) {
			agents = append(agents, m)
		}
	}
	var parts []llm.ContentPart
	if o.RecallType != events.RecallKnowledge {
		if text := workspaceContext(o); text != "" {
			parts = append(parts, llm.ContentPart{Type: "text", Text: text})
		}
	}
	if len(agents) > 0 {
		parts = append(parts, llm.ContentPart{Type: "text", Text: microagentInfo(agents)})
	}
	return parts
}

func (c *conversation) seenMicroagent(name string, before []*events.Event) bool {
	for _, ev := range before {
		if r, ok := ev.Observation.(*events.RecallObservation); ok {
			for _, m := range r.MicroagentKnowledge {
				if m.Name == name {
					return true
				}
			}
		}
	}
	return false
}

func (c *conversation) disabled(name string) bool {
	for _, d := range c.cfg.DisabledMicroagents {
		if d == name {
			return true
		}
	}
	return false
}

// filterUnmatched drops tool messages whose call is not in an assistant message, and strips from
// assistant messages the calls that have no tool message (dropping an assistant message left with
// nothing).
func filterUnmatched(msgs []llm.Message) []llm.Message {
	calls := map[string]bool{}
	answers := map[string]bool{}
	for _, m := range msgs {
		switch m.Role {
		case llm.RoleAssistant:
			for _, tc := range m.ToolCalls {
				calls[tc.ID] = true
			}
		case llm.RoleTool:
			answers[m.ToolCallID] = true
		}
	}
	out := msgs[:0]
	for _, m := range msgs {
		switch {
		case m.Role == llm.RoleTool && m.ToolCallID != "":
			if calls[m.ToolCallID] {
				out = append(out, m)
			}
		case m.Role == llm.RoleAssistant && len(m.ToolCalls) > 0:
			var matched []llm.ToolCall
			for _, tc := range m.ToolCalls {
				if answers[tc.ID] {
					matched = append(matched, tc)
				}
			}
			if len(matched) > 0 {
				m.ToolCalls = matched
				out = append(out, m)
			}
		default:
			out = append(out, m)
		}
	}
	return out
}

// separateUserMessages prepends a blank line to a user message that follows another, so that the
// two read apart if a provider merges them.
func separateUserMessages(msgs []llm.Message) {
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Role != llm.RoleUser || msgs[i-1].Role != llm.RoleUser {
			continue
		}
		for j := range msgs[i].Content {
			if msgs[i].Content[j].Type == "text" {
				msgs[i].Content = append([]llm.ContentPart(nil), msgs[i].Content...) // parts may be shared
				msgs[i].Content[j].Text = "\n\n" + msgs[i].Content[j].Text
				break
			}
		}
	}
}

// markCache sets prompt-caching breakpoints on the system message and on the last user or tool
// message; providers without prompt caching ignore them.
func markCache(msgs []llm.Message) {
	mark := func(m *llm.Message) {
		if n := len(m.Content); n > 0 {
			m.Content = append([]llm.ContentPart(nil), m.Content...)
			m.Content[n-1].CacheControl = true
		}
	}
	if len(msgs) > 0 && msgs[0].Role == llm.RoleSystem {
		mark(&msgs[0])
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleUser || msgs[i].Role == llm.RoleTool {
			mark(&msgs[i])
			break
		}
	}
}
