package events

import "fmt"

// Action is something an agent, a user or the environment asks to be done. Concrete types are the
// structs in this file; their fields are the event's "args", in OpenHands' order.
type Action interface {
	ActionType() ActionType
	// Message is the derived human-readable text written as the event's "message".
	Message() string
}

// Runnable reports whether the runtime executes actions of type t and answers with an observation
// whose cause is the action's id.
func Runnable(t ActionType) bool {
	switch t {
	case ActionRead, ActionWrite, ActionEdit, ActionRun, ActionRunIPython, ActionBrowse,
		ActionBrowseInteractive, ActionMCP:
		return true
	}
	return false
}

// MessageAction is a chat message from the user or the agent.
type MessageAction struct {
	Content         string   `json:"content"`
	FileURLs        []string `json:"file_urls"`
	ImageURLs       []string `json:"image_urls"`
	WaitForResponse bool     `json:"wait_for_response"`
	SecurityRisk    *int     `json:"security_risk,omitempty"`
}

// SystemMessageAction carries the system prompt and tool list the agent was started with.
type SystemMessageAction struct {
	Content          string    `json:"content"`
	Tools            []RawJSON `json:"tools"`
	OpenHandsVersion *string   `json:"openhands_version"`
	AgentClass       *string   `json:"agent_class"`
}

// CmdRunAction runs a shell command (or sends input to the running one).
type CmdRunAction struct {
	Command           string  `json:"command"`
	IsInput           bool    `json:"is_input"`
	Thought           string  `json:"thought"`
	Blocking          bool    `json:"blocking"`
	IsStatic          bool    `json:"is_static"`
	Cwd               *string `json:"cwd"`
	Hidden            bool    `json:"hidden"`
	ConfirmationState string  `json:"confirmation_state"`
	SecurityRisk      *int    `json:"security_risk,omitempty"`
}

// IPythonRunCellAction runs Python code in a Jupyter kernel.
type IPythonRunCellAction struct {
	Code              string `json:"code"`
	Thought           string `json:"thought"`
	IncludeExtra      bool   `json:"include_extra"`
	ConfirmationState string `json:"confirmation_state"`
	SecurityRisk      *int   `json:"security_risk,omitempty"`
	KernelInitCode    string `json:"kernel_init_code"`
}

// FileReadAction reads a file (or, with impl_source oh_aci, views it like str_replace_editor).
type FileReadAction struct {
	Path         string `json:"path"`
	Start        int    `json:"start"`
	End          int    `json:"end"`
	Thought      string `json:"thought"`
	SecurityRisk *int   `json:"security_risk,omitempty"`
	ImplSource   string `json:"impl_source"`
	ViewRange    []int  `json:"view_range"`
}

// FileWriteAction writes a file.
type FileWriteAction struct {
	Path         string `json:"path"`
	Content      string `json:"content"`
	Start        int    `json:"start"`
	End          int    `json:"end"`
	Thought      string `json:"thought"`
	SecurityRisk *int   `json:"security_risk,omitempty"`
}

// FileEditAction is a str_replace_editor command (impl_source oh_aci) or an LLM-based draft edit.
type FileEditAction struct {
	Path         string  `json:"path"`
	Command      string  `json:"command"`
	FileText     *string `json:"file_text"`
	OldStr       *string `json:"old_str"`
	NewStr       *string `json:"new_str"`
	InsertLine   *int    `json:"insert_line"`
	Content      string  `json:"content"`
	Start        int     `json:"start"`
	End          int     `json:"end"`
	Thought      string  `json:"thought"`
	SecurityRisk *int    `json:"security_risk,omitempty"`
	ImplSource   string  `json:"impl_source"`
}

// BrowseURLAction opens a URL in the sandbox browser.
type BrowseURLAction struct {
	URL          string `json:"url"`
	Thought      string `json:"thought"`
	SecurityRisk *int   `json:"security_risk,omitempty"`
	ReturnAxtree bool   `json:"return_axtree"`
}

// BrowseInteractiveAction drives the sandbox browser with BrowserGym calls.
type BrowseInteractiveAction struct {
	BrowserActions          string `json:"browser_actions"`
	Thought                 string `json:"thought"`
	BrowsergymSendMsgToUser string `json:"browsergym_send_msg_to_user"`
	SecurityRisk            *int   `json:"security_risk,omitempty"`
	ReturnAxtree            bool   `json:"return_axtree"`
}

// MCPAction calls a tool of an MCP server.
type MCPAction struct {
	Name         string  `json:"name"`
	Arguments    RawJSON `json:"arguments"`
	Thought      string  `json:"thought"`
	SecurityRisk *int    `json:"security_risk,omitempty"`
}

// AgentFinishAction ends the task.
type AgentFinishAction struct {
	FinalThought  string  `json:"final_thought"`
	TaskCompleted *string `json:"task_completed"`
	Outputs       RawJSON `json:"outputs"`
	Thought       string  `json:"thought"`
}

// AgentThinkAction logs a thought.
type AgentThinkAction struct {
	Thought string `json:"thought"`
}

// AgentRejectAction rejects the task.
type AgentRejectAction struct {
	Outputs RawJSON `json:"outputs"`
	Thought string  `json:"thought"`
}

// AgentDelegateAction hands the task to another agent.
type AgentDelegateAction struct {
	Agent   string  `json:"agent"`
	Inputs  RawJSON `json:"inputs"`
	Thought string  `json:"thought"`
}

// ChangeAgentStateAction asks the controller to move to another state.
type ChangeAgentStateAction struct {
	AgentState AgentState `json:"agent_state"`
	Thought    string     `json:"thought"`
}

// RecallAction asks memory for workspace context or microagent knowledge.
type RecallAction struct {
	RecallType string `json:"recall_type"`
	Query      string `json:"query"`
	Thought    string `json:"thought"`
}

// CondensationAction records which events the condenser forgot, and its summary.
type CondensationAction struct {
	ForgottenEventIDs      []int64 `json:"forgotten_event_ids"`
	ForgottenEventsStartID *int64  `json:"forgotten_events_start_id"`
	ForgottenEventsEndID   *int64  `json:"forgotten_events_end_id"`
	Summary                *string `json:"summary"`
	SummaryOffset          *int    `json:"summary_offset"`
}

// CondensationRequestAction asks for the history to be condensed.
type CondensationRequestAction struct{}

// NullAction is the absence of an action; it is never stored by the controller.
type NullAction struct{}

func (*MessageAction) ActionType() ActionType             { return ActionMessage }
func (*SystemMessageAction) ActionType() ActionType       { return ActionSystem }
func (*CmdRunAction) ActionType() ActionType              { return ActionRun }
func (*IPythonRunCellAction) ActionType() ActionType      { return ActionRunIPython }
func (*FileReadAction) ActionType() ActionType            { return ActionRead }
func (*FileWriteAction) ActionType() ActionType           { return ActionWrite }
func (*FileEditAction) ActionType() ActionType            { return ActionEdit }
func (*BrowseURLAction) ActionType() ActionType           { return ActionBrowse }
func (*BrowseInteractiveAction) ActionType() ActionType   { return ActionBrowseInteractive }
func (*MCPAction) ActionType() ActionType                 { return ActionMCP }
func (*AgentFinishAction) ActionType() ActionType         { return ActionFinish }
func (*AgentThinkAction) ActionType() ActionType          { return ActionThink }
func (*AgentRejectAction) ActionType() ActionType         { return ActionReject }
func (*AgentDelegateAction) ActionType() ActionType       { return ActionDelegate }
func (*ChangeAgentStateAction) ActionType() ActionType    { return ActionChangeAgentState }
func (*RecallAction) ActionType() ActionType              { return ActionRecall }
func (*CondensationAction) ActionType() ActionType        { return ActionCondensation }
func (*CondensationRequestAction) ActionType() ActionType { return ActionCondensationRequest }
func (*NullAction) ActionType() ActionType                { return ActionNull }

// The message texts below are part of the wire format: the UI shows them.

func (a *MessageAction) Message() string       { return a.Content }
func (a *SystemMessageAction) Message() string { return a.Content }
func (a *CmdRunAction) Message() string        { return "Running command: " + a.Command }
func (a *IPythonRunCellAction) Message() string {
	return "Running Python code interactively: " + a.Code
}
func (a *FileReadAction) Message() string  { return "Reading file: " + a.Path }
func (a *FileWriteAction) Message() string { return "Writing file: " + a.Path }
func (a *FileEditAction) Message() string  { return "" }
func (a *BrowseURLAction) Message() string { return "I am browsing the URL: " + a.URL }
func (a *BrowseInteractiveAction) Message() string {
	return "I am interacting with the browser:\n```\n" + a.BrowserActions + "\n```"
}
func (a *MCPAction) Message() string {
	return "I am interacting with the MCP server with name:\n```\n" + a.Name +
		"\n```\nand arguments:\n```\n" + pyReprJSON(a.Arguments, "{}") + "\n```"
}
func (a *AgentFinishAction) Message() string {
	if a.Thought != "" {
		return a.Thought
	}
	return "All done! What's next on the agenda?"
}
func (a *AgentThinkAction) Message() string { return "I am thinking...: " + a.Thought }
func (a *AgentRejectAction) Message() string {
	msg := "Task is rejected by the agent."
	if reason, ok := objectString(a.Outputs, "reason"); ok {
		msg += " Reason: " + reason
	}
	return msg
}
func (a *AgentDelegateAction) Message() string {
	return "I'm asking " + a.Agent + " for help with this task."
}
func (a *ChangeAgentStateAction) Message() string {
	return "Agent state changed to " + string(a.AgentState)
}
func (a *RecallAction) Message() string {
	return "Retrieving content for: " + firstRunes(a.Query, 50)
}
func (a *CondensationAction) Message() string {
	if a.Summary != nil && *a.Summary != "" {
		return "Summary: " + *a.Summary
	}
	return fmt.Sprintf("Condenser is dropping the events: %s.", pyIntList(a.Forgotten()))
}
func (a *CondensationRequestAction) Message() string {
	return "Requesting a condensation of the conversation history."
}
func (a *NullAction) Message() string { return "No action" }

// maxExpandedRange bounds the ids a condensation range expands to; real ranges are far smaller, and
// a hostile one must not make every write of the event build a huge message.
const maxExpandedRange = 100_000

// Forgotten returns the ids the condensation drops, expanding the inclusive range form.
func (a *CondensationAction) Forgotten() []int64 {
	if a.ForgottenEventIDs != nil {
		return a.ForgottenEventIDs
	}
	if a.ForgottenEventsStartID == nil || a.ForgottenEventsEndID == nil {
		return nil
	}
	start, end := *a.ForgottenEventsStartID, *a.ForgottenEventsEndID
	if end < start || end-start >= maxExpandedRange {
		return nil // nonsense or absurd ranges are not expanded
	}
	ids := make([]int64, 0, end-start+1)
	for id := start; id <= end; id++ {
		ids = append(ids, id)
	}
	return ids
}

// newAction returns an action of type t with OpenHands' defaults for every field a reader may find
// missing, or nil for an unknown type.
func newAction(t ActionType) Action {
	switch t {
	case ActionMessage:
		return &MessageAction{}
	case ActionSystem:
		v := "0.50.0"
		return &SystemMessageAction{OpenHandsVersion: &v}
	case ActionRun:
		return &CmdRunAction{ConfirmationState: ConfirmationConfirmed}
	case ActionRunIPython:
		return &IPythonRunCellAction{IncludeExtra: true, ConfirmationState: ConfirmationConfirmed}
	case ActionRead:
		return &FileReadAction{End: -1, ImplSource: ImplSourceDefault}
	case ActionWrite:
		return &FileWriteAction{End: -1}
	case ActionEdit:
		return &FileEditAction{Start: 1, End: -1, ImplSource: ImplSourceOHACI}
	case ActionBrowse:
		return &BrowseURLAction{}
	case ActionBrowseInteractive:
		return &BrowseInteractiveAction{}
	case ActionMCP:
		return &MCPAction{Arguments: RawJSON("{}")}
	case ActionFinish:
		return &AgentFinishAction{Outputs: RawJSON("{}")}
	case ActionThink:
		return &AgentThinkAction{}
	case ActionReject:
		return &AgentRejectAction{Outputs: RawJSON("{}")}
	case ActionDelegate:
		return &AgentDelegateAction{Inputs: RawJSON("{}")}
	case ActionChangeAgentState:
		return &ChangeAgentStateAction{}
	case ActionRecall:
		return &RecallAction{}
	case ActionCondensation:
		return &CondensationAction{}
	case ActionCondensationRequest:
		return &CondensationRequestAction{}
	case ActionNull:
		return &NullAction{}
	}
	return nil
}

func firstRunes(s string, n int) string {
	// Python slices by code point, not byte.
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
