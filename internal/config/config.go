package config

import (
	"log/slog"
	"os"
)

// Config is the effective gohands configuration. Each field group maps to one
// config.toml section of OpenHands 0.50.
type Config struct {
	Core Core `toml:"core" json:"core"`

	// LLM is the default LLM group, [llm].
	LLM LLM `toml:"llm" json:"llm"`
	// LLMs are the named groups, [llm.<name>]. Each starts from the [llm]
	// values in config.toml (not from LLM_* environment variables, which
	// apply to the default group only) and overrides them.
	LLMs map[string]LLM `toml:"-" json:"llms,omitempty"`

	// Agent is the default agent group, [agent]; [condenser] sets its
	// Condenser.
	Agent Agent `toml:"agent" json:"agent"`
	// Agents are the named groups, [agent.<AgentClass>] (case-sensitive),
	// each starting from the [agent] values.
	Agents map[string]Agent `toml:"-" json:"agents,omitempty"`

	Sandbox    Sandbox    `toml:"sandbox" json:"sandbox"`
	Security   Security   `toml:"security" json:"security"`
	MCP        MCP        `toml:"mcp" json:"mcp"`
	Kubernetes Kubernetes `toml:"kubernetes" json:"kubernetes"`

	// Extended is the free-form [extended] table, kept as parsed, for
	// extensions. Values have go-toml's generic types (string, int64,
	// float64, bool, []any, map[string]any, times). It is never printed
	// (String, JSON, slog): its values may hold credentials we cannot recognise.
	Extended map[string]any `toml:"extended" json:"-"`
}

// Core is the [core] section. Environment variables use the key upper-cased,
// without a prefix (MAX_ITERATIONS, RUNTIME, FILE_STORE_PATH).
type Core struct {
	DefaultAgent string `toml:"default_agent" json:"default_agent"`
	// Runtime is docker (alias eventstream, normalised to docker), local,
	// remote, kubernetes or cli.
	Runtime       string `toml:"runtime" json:"runtime"`
	FileStore     string `toml:"file_store" json:"file_store"`           // local, s3, google_cloud, memory
	FileStorePath string `toml:"file_store_path" json:"file_store_path"` // "~" is expanded at load

	FileStoreWebHookURL     string    `toml:"file_store_web_hook_url" json:"file_store_web_hook_url"`
	FileStoreWebHookHeaders SecretMap `toml:"file_store_web_hook_headers" json:"file_store_web_hook_headers"`

	EnableBrowser               bool   `toml:"enable_browser" json:"enable_browser"`
	SaveTrajectoryPath          string `toml:"save_trajectory_path" json:"save_trajectory_path"`
	SaveScreenshotsInTrajectory bool   `toml:"save_screenshots_in_trajectory" json:"save_screenshots_in_trajectory"`
	ReplayTrajectoryPath        string `toml:"replay_trajectory_path" json:"replay_trajectory_path"`
	SearchAPIKey                Secret `toml:"search_api_key" json:"search_api_key"`

	// WorkspaceBase, WorkspaceMountPath and WorkspaceMountRewrite are
	// OpenHands' deprecated workspace settings; sandbox.volumes replaces
	// them. After loading, Sandbox.Mounts holds the resulting mounts either way.
	WorkspaceBase               string `toml:"workspace_base" json:"workspace_base"`
	WorkspaceMountPathInSandbox string `toml:"workspace_mount_path_in_sandbox" json:"workspace_mount_path_in_sandbox"`
	WorkspaceMountPath          string `toml:"workspace_mount_path" json:"workspace_mount_path"`
	WorkspaceMountRewrite       string `toml:"workspace_mount_rewrite" json:"workspace_mount_rewrite"`

	CacheDir                string   `toml:"cache_dir" json:"cache_dir"`
	RunAsOpenHands          bool     `toml:"run_as_openhands" json:"run_as_openhands"`
	MaxIterations           int      `toml:"max_iterations" json:"max_iterations"`
	MaxBudgetPerTask        *float64 `toml:"max_budget_per_task" json:"max_budget_per_task"` // nil or 0 = no limit
	InitGitInEmptyWorkspace bool     `toml:"init_git_in_empty_workspace" json:"init_git_in_empty_workspace"`
	DisableColor            bool     `toml:"disable_color" json:"disable_color"`
	// JWTSecret empty means: read or create .jwt_secret in the file store
	// (done by the server, not at load).
	JWTSecret Secret `toml:"jwt_secret" json:"jwt_secret"`
	Debug     bool   `toml:"debug" json:"debug"`

	// The file_uploads_* keys are declared but not enforced by OpenHands 0.50.
	FileUploadsMaxFileSizeMB     int      `toml:"file_uploads_max_file_size_mb" json:"file_uploads_max_file_size_mb"`
	FileUploadsRestrictFileTypes bool     `toml:"file_uploads_restrict_file_types" json:"file_uploads_restrict_file_types"`
	FileUploadsAllowedExtensions []string `toml:"file_uploads_allowed_extensions" json:"file_uploads_allowed_extensions"`

	CLIMultilineInput          bool `toml:"cli_multiline_input" json:"cli_multiline_input"`
	ConversationMaxAgeSeconds  int  `toml:"conversation_max_age_seconds" json:"conversation_max_age_seconds"`
	EnableDefaultCondenser     bool `toml:"enable_default_condenser" json:"enable_default_condenser"`
	MaxConcurrentConversations int  `toml:"max_concurrent_conversations" json:"max_concurrent_conversations"`
	// MCPHost is host:port of the server's own MCP endpoint; the default port
	// comes from the "port" environment variable, else 3000.
	MCPHost string `toml:"mcp_host" json:"mcp_host"`
}

// Default returns the configuration with OpenHands 0.50's code defaults, before
// any file, environment or override is applied.
func Default() *Config {
	return &Config{
		Core: Core{
			DefaultAgent:                 "CodeActAgent",
			Runtime:                      "docker",
			FileStore:                    "local",
			FileStorePath:                "~/.openhands",
			EnableBrowser:                true,
			WorkspaceMountPathInSandbox:  "/workspace",
			CacheDir:                     "/tmp/cache",
			RunAsOpenHands:               true,
			MaxIterations:                500,
			FileUploadsAllowedExtensions: []string{".*"},
			ConversationMaxAgeSeconds:    864000,
			EnableDefaultCondenser:       true,
			MaxConcurrentConversations:   3,
			MCPHost:                      "localhost:3000",
		},
		LLM:        DefaultLLM(),
		LLMs:       map[string]LLM{},
		Agent:      DefaultAgent(),
		Agents:     map[string]Agent{},
		Sandbox:    DefaultSandbox(),
		Kubernetes: DefaultKubernetes(),
	}
}

// defaultUserID is the sandbox user's uid: the backend's own uid, so files
// written in the workspace belong to the user running gohands.
func defaultUserID() int {
	if uid := os.Getuid(); uid >= 0 {
		return uid
	}
	return 1000 // no uids on this platform
}

// LLMConfig returns the named LLM group, or the default group when name is
// "", "llm" or not a known group (OpenHands' get_llm_config).
func (c *Config) LLMConfig(name string) LLM {
	if g, ok := c.LLMs[name]; ok && name != "" && name != "llm" {
		return g
	}
	return c.LLM
}

// AgentConfig returns the named agent group ([agent.<name>]), or the default
// [agent] group when there is none by that name.
func (c *Config) AgentConfig(name string) Agent {
	if a, ok := c.Agents[name]; ok && name != "" && name != "agent" {
		return a
	}
	return c.Agent
}

// eachLLM calls fn with the path and a pointer to every LLM group, the
// default first, writing named groups back to the map.
func (c *Config) eachLLM(fn func(path []string, g *LLM)) {
	fn([]string{"llm"}, &c.LLM)
	for _, name := range sortedKeys(c.LLMs) {
		g := c.LLMs[name]
		fn([]string{"llm", name}, &g)
		c.LLMs[name] = g
	}
}

// eachAgent is eachLLM for agent groups.
func (c *Config) eachAgent(fn func(path []string, a *Agent)) {
	fn([]string{"agent"}, &c.Agent)
	for _, name := range sortedKeys(c.Agents) {
		a := c.Agents[name]
		fn([]string{"agent", name}, &a)
		c.Agents[name] = a
	}
}

// String renders the effective configuration as TOML with secrets masked.
func (c Config) String() string { return c.Dump() }

// LogValue logs the configuration section by section; secrets are masked by
// their own type whatever the handler.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("core", c.Core),
		slog.Any("llm", c.LLM),
		slog.Any("llms", c.LLMs),
		slog.Any("agent", c.Agent),
		slog.Any("agents", c.Agents),
		slog.Any("sandbox", c.Sandbox),
		slog.Any("security", c.Security),
		slog.Any("mcp", c.MCP),
		slog.Any("kubernetes", c.Kubernetes),
	)
}
