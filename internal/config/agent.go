package config

// Agent is one agent group: [agent] (the default) or [agent.<AgentClass>].
// Environment variables AGENT_<KEY> set the default group only.
type Agent struct {
	// LLMConfig names the [llm.<name>] group this agent uses; "" = default.
	LLMConfig            string `toml:"llm_config" json:"llm_config"`
	Classpath            string `toml:"classpath" json:"classpath"`
	SystemPromptFilename string `toml:"system_prompt_filename" json:"system_prompt_filename"`

	EnableBrowsing            bool `toml:"enable_browsing" json:"enable_browsing"`
	EnableLLMEditor           bool `toml:"enable_llm_editor" json:"enable_llm_editor"`
	EnableEditor              bool `toml:"enable_editor" json:"enable_editor"`
	EnableJupyter             bool `toml:"enable_jupyter" json:"enable_jupyter"`
	EnableCmd                 bool `toml:"enable_cmd" json:"enable_cmd"`
	EnableThink               bool `toml:"enable_think" json:"enable_think"`
	EnableFinish              bool `toml:"enable_finish" json:"enable_finish"`
	EnableCondensationRequest bool `toml:"enable_condensation_request" json:"enable_condensation_request"`
	EnablePromptExtensions    bool `toml:"enable_prompt_extensions" json:"enable_prompt_extensions"`
	EnableMCP                 bool `toml:"enable_mcp" json:"enable_mcp"`
	EnableHistoryTruncation   bool `toml:"enable_history_truncation" json:"enable_history_truncation"`
	EnableSOMVisualBrowsing   bool `toml:"enable_som_visual_browsing" json:"enable_som_visual_browsing"`

	DisabledMicroagents []string `toml:"disabled_microagents" json:"disabled_microagents"`

	// Condenser is set for the default agent by the [condenser] section
	// (or by the default-condenser rule); a group may also give its own
	// `condenser = { type = ... }` table.
	Condenser Condenser `toml:"condenser" json:"condenser"`
	// Extended is a free-form table for agent extensions; never printed.
	Extended map[string]any `toml:"extended" json:"-"`
}

// DefaultAgent returns an agent group with OpenHands 0.50's code defaults.
func DefaultAgent() Agent {
	return Agent{
		SystemPromptFilename:    "system_prompt.j2",
		EnableBrowsing:          true,
		EnableEditor:            true,
		EnableJupyter:           true,
		EnableCmd:               true,
		EnableThink:             true,
		EnableFinish:            true,
		EnablePromptExtensions:  true,
		EnableMCP:               true,
		EnableHistoryTruncation: true,
		EnableSOMVisualBrowsing: true,
		DisabledMicroagents:     []string{},
		Condenser:               DefaultCondenser(CondenserNoop),
	}
}

// Condenser types (the `type` key of [condenser]).
const (
	CondenserNoop                 = "noop"
	CondenserObservationMasking   = "observation_masking"
	CondenserBrowserOutputMasking = "browser_output_masking"
	CondenserRecent               = "recent"
	CondenserLLM                  = "llm"
	CondenserAmortized            = "amortized"
	CondenserLLMAttention         = "llm_attention"
	CondenserStructured           = "structured"
	CondenserPipeline             = "pipeline"
	CondenserConversationWindow   = "conversation_window"
)

// condenserKeys lists, per type, the keys that type accepts besides `type`.
var condenserKeys = map[string][]string{
	CondenserNoop:                 nil,
	CondenserObservationMasking:   {"attention_window"},
	CondenserBrowserOutputMasking: {"attention_window"},
	CondenserRecent:               {"keep_first", "max_events"},
	CondenserLLM:                  {"llm_config", "keep_first", "max_size", "max_event_length"},
	CondenserAmortized:            {"max_size", "keep_first"},
	CondenserLLMAttention:         {"llm_config", "max_size", "keep_first"},
	CondenserStructured:           {"llm_config", "keep_first", "max_size", "max_event_length"},
	CondenserPipeline:             {"condensers"},
	CondenserConversationWindow:   nil,
}

// Condenser configures how an agent's history is condensed. Type selects the
// strategy; each type reads only its own keys (see condenserKeys), the others
// stay zero.
type Condenser struct {
	Type            string `toml:"type" json:"type"`
	AttentionWindow int    `toml:"attention_window" json:"attention_window,omitempty"`
	KeepFirst       int    `toml:"keep_first" json:"keep_first,omitempty"`
	MaxEvents       int    `toml:"max_events" json:"max_events,omitempty"`
	MaxSize         int    `toml:"max_size" json:"max_size,omitempty"`
	MaxEventLength  int    `toml:"max_event_length" json:"max_event_length,omitempty"`
	// LLMConfig names the [llm.<name>] group an LLM-based condenser uses;
	// "" (or an unknown name, with a warning at load) = the default group.
	LLMConfig string `toml:"llm_config" json:"llm_config,omitempty"`
	// Condensers are the stages of a pipeline, applied in order.
	Condensers []Condenser `toml:"condensers" json:"condensers,omitempty"`
}

// DefaultCondenser returns the condenser of the given type with OpenHands'
// defaults for that type. An unknown type gives a Condenser with just Type set.
func DefaultCondenser(typ string) Condenser {
	c := Condenser{Type: typ}
	switch typ {
	case CondenserObservationMasking:
		c.AttentionWindow = 100
	case CondenserBrowserOutputMasking:
		c.AttentionWindow = 1
	case CondenserRecent:
		c.KeepFirst, c.MaxEvents = 1, 100
	case CondenserLLM, CondenserStructured:
		c.KeepFirst, c.MaxSize, c.MaxEventLength = 1, 100, 10000
	case CondenserAmortized, CondenserLLMAttention:
		c.KeepFirst, c.MaxSize = 1, 100
	case CondenserPipeline:
		c.Condensers = []Condenser{}
	}
	return c
}
