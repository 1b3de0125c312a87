package config

// LLM is one LLM group: [llm] (the default) or [llm.<name>]. Environment
// variables LLM_<KEY> set the default group only.
//
// Pointer fields are OpenHands' optional values: nil means "not set", which
// for most of them means "let the provider or the model's metadata decide".
type LLM struct {
	// Model is a LiteLLM-style "provider/model" id.
	Model              string `toml:"model" json:"model"`
	APIKey             Secret `toml:"api_key" json:"api_key"`
	BaseURL            string `toml:"base_url" json:"base_url"`
	APIVersion         string `toml:"api_version" json:"api_version"`
	AWSAccessKeyID     Secret `toml:"aws_access_key_id" json:"aws_access_key_id"`
	AWSSecretAccessKey Secret `toml:"aws_secret_access_key" json:"aws_secret_access_key"`
	AWSRegionName      string `toml:"aws_region_name" json:"aws_region_name"`
	OpenRouterSiteURL  string `toml:"openrouter_site_url" json:"openrouter_site_url"`
	OpenRouterAppName  string `toml:"openrouter_app_name" json:"openrouter_app_name"`

	// NumRetries is the attempt limit for retryable errors, with exponential
	// backoff RetryMinWait..RetryMaxWait seconds, ×RetryMultiplier.
	NumRetries      int     `toml:"num_retries" json:"num_retries"`
	RetryMultiplier float64 `toml:"retry_multiplier" json:"retry_multiplier"`
	RetryMinWait    int     `toml:"retry_min_wait" json:"retry_min_wait"`
	RetryMaxWait    int     `toml:"retry_max_wait" json:"retry_max_wait"`
	Timeout         *int    `toml:"timeout" json:"timeout"` // per request, seconds

	// MaxMessageChars: longer observation text is middle-truncated in prompts.
	MaxMessageChars int      `toml:"max_message_chars" json:"max_message_chars"`
	Temperature     float64  `toml:"temperature" json:"temperature"`
	TopP            float64  `toml:"top_p" json:"top_p"`
	TopK            *float64 `toml:"top_k" json:"top_k"`

	CustomLLMProvider  string   `toml:"custom_llm_provider" json:"custom_llm_provider"`
	MaxInputTokens     *int     `toml:"max_input_tokens" json:"max_input_tokens"`
	MaxOutputTokens    *int     `toml:"max_output_tokens" json:"max_output_tokens"`
	InputCostPerToken  *float64 `toml:"input_cost_per_token" json:"input_cost_per_token"`
	OutputCostPerToken *float64 `toml:"output_cost_per_token" json:"output_cost_per_token"`
	OllamaBaseURL      string   `toml:"ollama_base_url" json:"ollama_base_url"`

	DropParams    bool  `toml:"drop_params" json:"drop_params"`
	ModifyParams  bool  `toml:"modify_params" json:"modify_params"`
	DisableVision *bool `toml:"disable_vision" json:"disable_vision"`
	CachingPrompt bool  `toml:"caching_prompt" json:"caching_prompt"`

	LogCompletions bool `toml:"log_completions" json:"log_completions"`
	// LogCompletionsFolder is made absolute at load (relative to the working
	// directory).
	LogCompletionsFolder string `toml:"log_completions_folder" json:"log_completions_folder"`
	CustomTokenizer      string `toml:"custom_tokenizer" json:"custom_tokenizer"`
	// NativeToolCalling nil means: native function calling for models known
	// to support it; true/false forces it.
	NativeToolCalling *bool `toml:"native_tool_calling" json:"native_tool_calling"`
	// ReasoningEffort is low, medium, high or none; sent only to reasoning
	// models.
	ReasoningEffort string `toml:"reasoning_effort" json:"reasoning_effort"`
	Seed            *int   `toml:"seed" json:"seed"`
	// SafetySettings is passed through to Mistral and Gemini models.
	SafetySettings []map[string]any `toml:"safety_settings" json:"safety_settings"`
}

// DefaultLLM returns an LLM group with OpenHands 0.50's code defaults.
func DefaultLLM() LLM {
	return LLM{
		Model:                "claude-sonnet-4-20250514",
		OpenRouterSiteURL:    "https://docs.all-hands.dev/",
		OpenRouterAppName:    "OpenHands",
		NumRetries:           4,
		RetryMultiplier:      2,
		RetryMinWait:         5,
		RetryMaxWait:         30,
		MaxMessageChars:      30000,
		Temperature:          0,
		TopP:                 1,
		DropParams:           true,
		ModifyParams:         true,
		CachingPrompt:        true,
		LogCompletionsFolder: "logs/completions",
		ReasoningEffort:      "high",
	}
}
