package events

import "fmt"

// Observation is what came of an action, or a notice from the environment. Concrete types are the
// structs in this file; the Content field becomes the top-level "content", the others the "extras".
type Observation interface {
	ObservationType() ObservationType
	// Message is the derived human-readable text written as the event's "message".
	Message() string
	text() *string
}

// CmdOutputMetadata is what the shell prompt told about a finished (or still running) command.
type CmdOutputMetadata struct {
	ExitCode          int     `json:"exit_code"`
	PID               int     `json:"pid"`
	Username          *string `json:"username"`
	Hostname          *string `json:"hostname"`
	WorkingDir        *string `json:"working_dir"`
	PyInterpreterPath *string `json:"py_interpreter_path"`
	Prefix            string  `json:"prefix"`
	Suffix            string  `json:"suffix"`
}

// DefaultCmdOutputMetadata is the metadata of a command nothing is known about.
func DefaultCmdOutputMetadata() CmdOutputMetadata { return CmdOutputMetadata{ExitCode: -1, PID: -1} }

// CmdOutputObservation is the output of a shell command.
type CmdOutputObservation struct {
	Content  string            `json:"-"`
	Command  string            `json:"command"`
	Metadata CmdOutputMetadata `json:"metadata"`
	Hidden   bool              `json:"hidden"`
}

// IPythonRunCellObservation is the output of a Jupyter cell.
type IPythonRunCellObservation struct {
	Content   string   `json:"-"`
	Code      string   `json:"code"`
	ImageURLs []string `json:"image_urls"`
}

// FileReadObservation is the content of a file that was read or viewed.
type FileReadObservation struct {
	Content    string `json:"-"`
	Path       string `json:"path"`
	ImplSource string `json:"impl_source"`
}

// FileWriteObservation confirms a write.
type FileWriteObservation struct {
	Content string `json:"-"`
	Path    string `json:"path"`
}

// FileEditObservation is the result of an edit; Diff is what the UI renders.
type FileEditObservation struct {
	Content    string  `json:"-"`
	Path       string  `json:"path"`
	PrevExist  bool    `json:"prev_exist"`
	OldContent *string `json:"old_content"`
	NewContent *string `json:"new_content"`
	ImplSource string  `json:"impl_source"`
	Diff       *string `json:"diff"`
	DiffCache  *string `json:"_diff_cache"`
}

// BrowserOutputObservation is what the sandbox browser saw.
type BrowserOutputObservation struct {
	Content                string   `json:"-"`
	URL                    string   `json:"url"`
	TriggerByAction        string   `json:"trigger_by_action"`
	Screenshot             *string  `json:"screenshot"`
	ScreenshotPath         *string  `json:"screenshot_path"`
	SetOfMarks             string   `json:"set_of_marks"`
	Error                  bool     `json:"error"`
	GoalImageURLs          []string `json:"goal_image_urls"`
	OpenPagesURLs          []string `json:"open_pages_urls"`
	ActivePageIndex        int      `json:"active_page_index"`
	DOMObject              RawJSON  `json:"dom_object"`
	AxtreeObject           RawJSON  `json:"axtree_object"`
	ExtraElementProperties RawJSON  `json:"extra_element_properties"`
	LastBrowserAction      string   `json:"last_browser_action"`
	LastBrowserActionError string   `json:"last_browser_action_error"`
	FocusedElementBID      *string  `json:"focused_element_bid"`
	FilterVisibleOnly      bool     `json:"filter_visible_only"`
}

// AgentDelegateObservation is the result of a delegated task.
type AgentDelegateObservation struct {
	Content string  `json:"-"`
	Outputs RawJSON `json:"outputs"`
}

// ErrorObservation reports a problem to the agent and the user.
type ErrorObservation struct {
	Content string `json:"-"`
	ErrorID string `json:"error_id"`
}

// SuccessObservation reports that something worked.
type SuccessObservation struct {
	Content string `json:"-"`
}

// NullObservation is the absence of an observation; it is never sent to the UI.
type NullObservation struct {
	Content string `json:"-"`
}

// AgentThinkObservation acknowledges a think action.
type AgentThinkObservation struct {
	Content string `json:"-"`
}

// AgentStateChangedObservation announces a new agent state.
type AgentStateChangedObservation struct {
	Content    string     `json:"-"`
	AgentState AgentState `json:"agent_state"`
	Reason     string     `json:"reason"`
}

// UserRejectObservation answers an action the user rejected.
type UserRejectObservation struct {
	Content string `json:"-"`
}

// AgentCondensationObservation carries a condensation summary inside a view of the history.
type AgentCondensationObservation struct {
	Content string `json:"-"`
}

// MicroagentKnowledge is one triggered microagent in a recall observation.
type MicroagentKnowledge struct {
	Name    string `json:"name"`
	Trigger string `json:"trigger"`
	Content string `json:"content"`
}

// RecallObservation is the workspace context or microagent knowledge memory found.
type RecallObservation struct {
	Content                     string                `json:"-"`
	RecallType                  string                `json:"recall_type"`
	RepoName                    string                `json:"repo_name"`
	RepoDirectory               string                `json:"repo_directory"`
	RepoInstructions            string                `json:"repo_instructions"`
	RuntimeHosts                map[string]int        `json:"runtime_hosts"`
	AdditionalAgentInstructions string                `json:"additional_agent_instructions"`
	Date                        string                `json:"date"`
	CustomSecretsDescriptions   map[string]string     `json:"custom_secrets_descriptions"`
	ConversationInstructions    string                `json:"conversation_instructions"`
	WorkingDir                  string                `json:"working_dir"`
	MicroagentKnowledge         []MicroagentKnowledge `json:"microagent_knowledge"`
}

// MCPObservation is the result of an MCP tool call (Content is its JSON text).
type MCPObservation struct {
	Content   string  `json:"-"`
	Name      string  `json:"name"`
	Arguments RawJSON `json:"arguments"`
}

// FileDownloadObservation reports a file the browser downloaded.
type FileDownloadObservation struct {
	Content  string `json:"-"`
	FilePath string `json:"file_path"`
}

func (*CmdOutputObservation) ObservationType() ObservationType      { return ObservationRun }
func (*IPythonRunCellObservation) ObservationType() ObservationType { return ObservationRunIPython }
func (*FileReadObservation) ObservationType() ObservationType       { return ObservationRead }
func (*FileWriteObservation) ObservationType() ObservationType      { return ObservationWrite }
func (*FileEditObservation) ObservationType() ObservationType       { return ObservationEdit }
func (*BrowserOutputObservation) ObservationType() ObservationType  { return ObservationBrowse }
func (*AgentDelegateObservation) ObservationType() ObservationType  { return ObservationDelegate }
func (*ErrorObservation) ObservationType() ObservationType          { return ObservationError }
func (*SuccessObservation) ObservationType() ObservationType        { return ObservationSuccess }
func (*NullObservation) ObservationType() ObservationType           { return ObservationNull }
func (*AgentThinkObservation) ObservationType() ObservationType     { return ObservationThink }
func (*AgentStateChangedObservation) ObservationType() ObservationType {
	return ObservationAgentStateChanged
}
func (*UserRejectObservation) ObservationType() ObservationType        { return ObservationUserRejected }
func (*AgentCondensationObservation) ObservationType() ObservationType { return ObservationCondense }
func (*RecallObservation) ObservationType() ObservationType            { return ObservationRecall }
func (*MCPObservation) ObservationType() ObservationType               { return ObservationMCP }
func (*FileDownloadObservation) ObservationType() ObservationType      { return ObservationDownload }

func (o *CmdOutputObservation) text() *string         { return &o.Content }
func (o *IPythonRunCellObservation) text() *string    { return &o.Content }
func (o *FileReadObservation) text() *string          { return &o.Content }
func (o *FileWriteObservation) text() *string         { return &o.Content }
func (o *FileEditObservation) text() *string          { return &o.Content }
func (o *BrowserOutputObservation) text() *string     { return &o.Content }
func (o *AgentDelegateObservation) text() *string     { return &o.Content }
func (o *ErrorObservation) text() *string             { return &o.Content }
func (o *SuccessObservation) text() *string           { return &o.Content }
func (o *NullObservation) text() *string              { return &o.Content }
func (o *AgentThinkObservation) text() *string        { return &o.Content }
func (o *AgentStateChangedObservation) text() *string { return &o.Content }
func (o *UserRejectObservation) text() *string        { return &o.Content }
func (o *AgentCondensationObservation) text() *string { return &o.Content }
func (o *RecallObservation) text() *string            { return &o.Content }
func (o *MCPObservation) text() *string               { return &o.Content }
func (o *FileDownloadObservation) text() *string      { return &o.Content }

// The message texts below are part of the wire format: the UI shows them.

func (o *CmdOutputObservation) Message() string {
	return fmt.Sprintf("Command `%s` executed with exit code %d.", o.Command, o.Metadata.ExitCode)
}
func (o *IPythonRunCellObservation) Message() string { return "Code executed in IPython cell." }
func (o *FileReadObservation) Message() string       { return "I read the file " + o.Path + "." }
func (o *FileWriteObservation) Message() string      { return "I wrote to the file " + o.Path + "." }
func (o *FileEditObservation) Message() string       { return "I edited the file " + o.Path + "." }
func (o *BrowserOutputObservation) Message() string  { return "Visited " + o.URL }
func (o *AgentDelegateObservation) Message() string  { return "" }
func (o *ErrorObservation) Message() string          { return o.Content }
func (o *SuccessObservation) Message() string        { return o.Content }
func (o *NullObservation) Message() string           { return "No observation" }
func (o *AgentThinkObservation) Message() string     { return o.Content }
func (o *AgentStateChangedObservation) Message() string {
	return ""
}
func (o *UserRejectObservation) Message() string        { return o.Content }
func (o *AgentCondensationObservation) Message() string { return o.Content }
func (o *RecallObservation) Message() string {
	if o.RecallType == RecallKnowledge {
		return "Added microagent knowledge"
	}
	return "Added workspace context"
}
func (o *MCPObservation) Message() string { return o.Content }
func (o *FileDownloadObservation) Message() string {
	return "Downloaded the file at location: " + o.FilePath
}

// Success is the top-level "success" of run observations: the command exited with 0.
func (o *CmdOutputObservation) Success() bool { return o.Metadata.ExitCode == 0 }

// newObservation returns an observation of type t with OpenHands' defaults for every field a reader
// may find missing, or nil for an unknown type.
func newObservation(t ObservationType) Observation {
	switch t {
	case ObservationRun:
		return &CmdOutputObservation{Metadata: DefaultCmdOutputMetadata()}
	case ObservationRunIPython:
		return &IPythonRunCellObservation{}
	case ObservationRead:
		return &FileReadObservation{ImplSource: ImplSourceDefault}
	case ObservationWrite:
		return &FileWriteObservation{}
	case ObservationEdit:
		return &FileEditObservation{ImplSource: ImplSourceLLMBasedEdit}
	case ObservationBrowse:
		empty := ""
		return &BrowserOutputObservation{Screenshot: &empty, FocusedElementBID: &empty,
			GoalImageURLs: []string{}, OpenPagesURLs: []string{}, ActivePageIndex: -1,
			DOMObject: RawJSON("{}"), AxtreeObject: RawJSON("{}"), ExtraElementProperties: RawJSON("{}")}
	case ObservationDelegate:
		return &AgentDelegateObservation{Outputs: RawJSON("{}")}
	case ObservationError:
		return &ErrorObservation{}
	case ObservationSuccess:
		return &SuccessObservation{}
	case ObservationNull:
		return &NullObservation{}
	case ObservationThink:
		return &AgentThinkObservation{}
	case ObservationAgentStateChanged:
		return &AgentStateChangedObservation{}
	case ObservationUserRejected:
		return &UserRejectObservation{}
	case ObservationCondense:
		return &AgentCondensationObservation{}
	case ObservationRecall:
		return &RecallObservation{RuntimeHosts: map[string]int{}, CustomSecretsDescriptions: map[string]string{},
			MicroagentKnowledge: []MicroagentKnowledge{}}
	case ObservationMCP:
		return &MCPObservation{Arguments: RawJSON("{}")}
	case ObservationDownload:
		return &FileDownloadObservation{}
	}
	return nil
}
