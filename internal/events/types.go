package events

// ActionType is the value of an action's "action" key.
type ActionType string

// The action types of OpenHands 0.50 (openhands/core/schema/action.py).
const (
	ActionMessage             ActionType = "message"
	ActionSystem              ActionType = "system"
	ActionRead                ActionType = "read"
	ActionWrite               ActionType = "write"
	ActionEdit                ActionType = "edit"
	ActionRun                 ActionType = "run"
	ActionRunIPython          ActionType = "run_ipython"
	ActionBrowse              ActionType = "browse"
	ActionBrowseInteractive   ActionType = "browse_interactive"
	ActionMCP                 ActionType = "call_tool_mcp"
	ActionDelegate            ActionType = "delegate"
	ActionThink               ActionType = "think"
	ActionFinish              ActionType = "finish"
	ActionReject              ActionType = "reject"
	ActionNull                ActionType = "null"
	ActionChangeAgentState    ActionType = "change_agent_state"
	ActionRecall              ActionType = "recall"
	ActionCondensation        ActionType = "condensation"
	ActionCondensationRequest ActionType = "condensation_request"
)

// ObservationType is the value of an observation's "observation" key.
type ObservationType string

// The observation types of OpenHands 0.50 (openhands/core/schema/observation.py).
const (
	ObservationRead              ObservationType = "read"
	ObservationWrite             ObservationType = "write"
	ObservationEdit              ObservationType = "edit"
	ObservationBrowse            ObservationType = "browse"
	ObservationRun               ObservationType = "run"
	ObservationRunIPython        ObservationType = "run_ipython"
	ObservationDelegate          ObservationType = "delegate"
	ObservationError             ObservationType = "error"
	ObservationSuccess           ObservationType = "success"
	ObservationNull              ObservationType = "null"
	ObservationThink             ObservationType = "think"
	ObservationAgentStateChanged ObservationType = "agent_state_changed"
	ObservationUserRejected      ObservationType = "user_rejected"
	ObservationCondense          ObservationType = "condense"
	ObservationRecall            ObservationType = "recall"
	ObservationMCP               ObservationType = "mcp"
	ObservationDownload          ObservationType = "download"
)

// Source says who produced an event.
type Source string

// Event sources.
const (
	SourceAgent       Source = "agent"
	SourceUser        Source = "user"
	SourceEnvironment Source = "environment"
)

// Valid reports whether s is one of the three sources.
func (s Source) Valid() bool {
	return s == SourceAgent || s == SourceUser || s == SourceEnvironment
}

// AgentState is the state of the agent controller as the UI sees it.
type AgentState string

// The agent states of OpenHands 0.50 (openhands/core/schema/agent.py).
const (
	StateLoading                  AgentState = "loading"
	StateRunning                  AgentState = "running"
	StateAwaitingUserInput        AgentState = "awaiting_user_input"
	StatePaused                   AgentState = "paused"
	StateStopped                  AgentState = "stopped"
	StateFinished                 AgentState = "finished"
	StateRejected                 AgentState = "rejected"
	StateError                    AgentState = "error"
	StateAwaitingUserConfirmation AgentState = "awaiting_user_confirmation"
	StateUserConfirmed            AgentState = "user_confirmed"
	StateUserRejected             AgentState = "user_rejected"
	StateRateLimited              AgentState = "rate_limited"
)

// AgentStates lists every agent state, in OpenHands' declaration order.
var AgentStates = []AgentState{
	StateLoading, StateRunning, StateAwaitingUserInput, StatePaused, StateStopped, StateFinished,
	StateRejected, StateError, StateAwaitingUserConfirmation, StateUserConfirmed, StateUserRejected,
	StateRateLimited,
}

// Confirmation states of run and run_ipython actions.
const (
	ConfirmationConfirmed = "confirmed"
	ConfirmationRejected  = "rejected"
	ConfirmationAwaiting  = "awaiting_confirmation"
)

// Security risk levels (args.security_risk).
const (
	RiskUnknown = -1
	RiskLow     = 0
	RiskMedium  = 1
	RiskHigh    = 2
)

// Implementation sources of file reads and edits.
const (
	ImplSourceDefault      = "default"
	ImplSourceOHACI        = "oh_aci"
	ImplSourceLLMBasedEdit = "llm_based_edit"
)

// Recall types.
const (
	RecallWorkspaceContext = "workspace_context"
	RecallKnowledge        = "knowledge"
)

// Error ids the UI uses as translation keys (extras.error_id).
const (
	ErrorIDActionNotExecuted = "AGENT_ERROR$ERROR_ACTION_NOT_EXECUTED"
	ErrorIDBadAction         = "AGENT_ERROR$BAD_ACTION"
)

// SecretHidden replaces every secret value in persisted and delivered events.
const SecretHidden = "<secret_hidden>"
