package config

import (
	"reflect"
	"strings"
	"testing"
)

const layered = `
[core]
max_iterations = 10
runtime = "local"
[llm]
model = "toml-model"
num_retries = 2
[llm.claude]
model = "claude-group"
[agent]
enable_browsing = false
[sandbox]
timeout = 60
[security]
confirmation_mode = false
[kubernetes]
namespace = "toml-ns"
`

// Precedence: defaults < config.toml < environment < overrides.
func TestPrecedence(t *testing.T) {
	p := writeConfig(t, layered)
	vars := map[string]string{
		"HOME":                       "/home/tester",
		"MAX_ITERATIONS":             "20",
		"RUNTIME":                    "docker",
		"LLM_MODEL":                  "env-model",
		"LLM_API_KEY":                "env-secret",
		"AGENT_ENABLE_BROWSING":      "TRUE",
		"SANDBOX_TIMEOUT":            "90",
		"SECURITY_CONFIRMATION_MODE": "1",
		"KUBERNETES_NAMESPACE":       "env-ns",
		"DEBUG":                      "",     // empty: ignored
		"SANDBOX_USER_ID":            "4242", // not in the file
	}
	cfg, _ := mustLoad(t, LoadOptions{Path: p, Env: env(vars)})
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"core.max_iterations", cfg.Core.MaxIterations, 20},
		{"core.runtime", cfg.Core.Runtime, "docker"},
		{"core.debug", cfg.Core.Debug, false},
		{"llm.model", cfg.LLM.Model, "env-model"},
		{"llm.api_key", cfg.LLM.APIKey.Reveal(), "env-secret"},
		{"llm.num_retries (file)", cfg.LLM.NumRetries, 2},
		{"agent.enable_browsing", cfg.Agent.EnableBrowsing, true},
		{"sandbox.timeout", cfg.Sandbox.Timeout, 90},
		{"sandbox.user_id", cfg.Sandbox.UserID, 4242},
		{"security.confirmation_mode", cfg.Security.ConfirmationMode, true},
		{"kubernetes.namespace", cfg.Kubernetes.Namespace, "env-ns"},
		// LLM_* sets the default group only, as in OpenHands.
		{"llm.claude.model", cfg.LLMs["claude"].Model, "claude-group"},
		{"llm.claude.api_key", cfg.LLMs["claude"].APIKey.IsSet(), false},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}

	// Overrides beat the environment.
	cfg, _ = mustLoad(t, LoadOptions{Path: p, Env: env(vars), Overrides: Overrides{
		MaxIterations:    ptr(30),
		Agent:            "BrowsingAgent",
		MaxBudgetPerTask: ptr(1.25),
		SelectedRepo:     "o/r",
		Set:              []string{"sandbox.timeout=150", "llm.model=flag-model", "llm.claude.num_retries=9", "security.confirmation_mode=false"},
	}})
	if cfg.Core.MaxIterations != 30 || cfg.Core.DefaultAgent != "BrowsingAgent" || *cfg.Core.MaxBudgetPerTask != 1.25 ||
		cfg.Sandbox.SelectedRepo != "o/r" || cfg.Sandbox.Timeout != 150 || cfg.LLM.Model != "flag-model" ||
		cfg.LLMs["claude"].NumRetries != 9 || cfg.Security.ConfirmationMode {
		t.Errorf("overrides not applied over env: %+v %+v %+v", cfg.Core, cfg.Sandbox, cfg.LLM)
	}

	// --llm-config replaces the default group, env values included.
	cfg, _ = mustLoad(t, LoadOptions{Path: p, Env: env(vars), Overrides: Overrides{LLMConfig: "claude"}})
	if cfg.LLM.Model != "claude-group" || cfg.LLM.APIKey.IsSet() || cfg.LLM.NumRetries != 2 {
		t.Errorf("--llm-config claude: default LLM = %+v", cfg.LLM)
	}
}

func TestEnvValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		check func(*Config) bool
	}{
		{"bool true any case", map[string]string{"DEBUG": "True"}, func(c *Config) bool { return c.Core.Debug }},
		{"bool 1", map[string]string{"DEBUG": "1"}, func(c *Config) bool { return c.Core.Debug }},
		{"bool anything else is false", map[string]string{"ENABLE_BROWSER": "yes"}, func(c *Config) bool { return !c.Core.EnableBrowser }},
		{"optional bool", map[string]string{"LLM_NATIVE_TOOL_CALLING": "false"}, func(c *Config) bool {
			return c.LLM.NativeToolCalling != nil && !*c.LLM.NativeToolCalling
		}},
		{"optional int", map[string]string{"LLM_TIMEOUT": " 45 "}, func(c *Config) bool { return c.LLM.Timeout != nil && *c.LLM.Timeout == 45 }},
		{"float", map[string]string{"LLM_TEMPERATURE": "0.7"}, func(c *Config) bool { return c.LLM.Temperature == 0.7 }},
		{"optional float", map[string]string{"MAX_BUDGET_PER_TASK": "3"}, func(c *Config) bool {
			return c.Core.MaxBudgetPerTask != nil && *c.Core.MaxBudgetPerTask == 3
		}},
		{"dict", map[string]string{"SANDBOX_RUNTIME_STARTUP_ENV_VARS": `{"K": "V"}`}, func(c *Config) bool {
			return reflect.DeepEqual(c.Sandbox.RuntimeStartupEnvVars, SecretMap{"K": "V"})
		}},
		{"list", map[string]string{"SANDBOX_RUNTIME_EXTRA_BUILD_ARGS": `["--network=host"]`}, func(c *Config) bool {
			return reflect.DeepEqual(c.Sandbox.RuntimeExtraBuildArgs, []string{"--network=host"})
		}},
		{"free-form dict", map[string]string{"SANDBOX_DOCKER_RUNTIME_KWARGS": `{"shm_size": "1g", "n": 2}`}, func(c *Config) bool {
			return reflect.DeepEqual(c.Sandbox.DockerRuntimeKwargs, map[string]any{"shm_size": "1g", "n": int64(2)})
		}},
		{"volumes", map[string]string{"SANDBOX_VOLUMES": "/src:/workspace"}, func(c *Config) bool {
			return c.Core.WorkspaceBase == "/src" && len(c.Sandbox.Mounts) == 1
		}},
		{"gohands sandbox limits", map[string]string{"SANDBOX_MEMORY_LIMIT": "512m", "SANDBOX_CPUS": "0.5", "SANDBOX_PIDS_LIMIT": "100", "SANDBOX_NETWORK": "none"}, func(c *Config) bool {
			return c.Sandbox.MemoryLimit == "512m" && c.Sandbox.CPUs == 0.5 && c.Sandbox.PidsLimit == 100 && c.Sandbox.Network == "none"
		}},
		{"secret", map[string]string{"SEARCH_API_KEY": "tvly-x"}, func(c *Config) bool { return c.Core.SearchAPIKey.Reveal() == "tvly-x" }},
		{"port sets mcp_host", map[string]string{"port": "3001"}, func(c *Config) bool { return c.Core.MCPHost == "localhost:3001" }},
		{"eventstream is docker", map[string]string{"RUNTIME": "eventstream"}, func(c *Config) bool { return c.Core.Runtime == "docker" }},
		{"cli runtime turns off jupyter and browsing", map[string]string{"RUNTIME": "cli"}, func(c *Config) bool {
			return !c.Agent.EnableJupyter && !c.Agent.EnableBrowsing
		}},
		{"file store path tilde", map[string]string{"HOME": "/h", "FILE_STORE_PATH": "~/store"}, func(c *Config) bool { return c.Core.FileStorePath == "/h/store" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			cfg, _ := mustLoad(t, LoadOptions{Env: env(tc.vars)})
			if !tc.check(cfg) {
				t.Errorf("env %v not applied as expected:\n%s", tc.vars, cfg)
			}
		})
	}
}

// Where OpenHands logs a bad value and keeps the old one, gohands fails and
// names the variable and the expected type.
func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"int", map[string]string{"MAX_ITERATIONS": "abc"}, `env MAX_ITERATIONS: core.max_iterations: expected an integer, got "abc"`},
		{"float", map[string]string{"LLM_TEMPERATURE": "hot"}, `env LLM_TEMPERATURE: llm.temperature: expected a number, got "hot"`},
		{"optional int", map[string]string{"SANDBOX_VSCODE_PORT": "x"}, `env SANDBOX_VSCODE_PORT: sandbox.vscode_port: expected an integer`},
		{"malformed dict", map[string]string{"SANDBOX_RUNTIME_STARTUP_ENV_VARS": `{"K": `}, `env SANDBOX_RUNTIME_STARTUP_ENV_VARS: sandbox.runtime_startup_env_vars: expected a table as JSON`},
		{"python literal", map[string]string{"SANDBOX_RUNTIME_EXTRA_BUILD_ARGS": `['--x']`}, `env SANDBOX_RUNTIME_EXTRA_BUILD_ARGS: sandbox.runtime_extra_build_args: expected an array of strings as JSON`},
		{"dict of wrong type", map[string]string{"SANDBOX_RUNTIME_STARTUP_ENV_VARS": `{"K": 1}`}, `env SANDBOX_RUNTIME_STARTUP_ENV_VARS: sandbox.runtime_startup_env_vars.K: expected a string, got integer 1`},
		{"trailing data", map[string]string{"SANDBOX_TRUSTED_DIRS": `["/a"] x`}, `env SANDBOX_TRUSTED_DIRS`},
		{"validation cites env", map[string]string{"SANDBOX_TIMEOUT": "-5"}, `env SANDBOX_TIMEOUT: sandbox.timeout: must be positive, got -5`},
		{"bad volumes cite env", map[string]string{"SANDBOX_VOLUMES": "/only-one-part"}, `env SANDBOX_VOLUMES: sandbox.volumes:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			msg := loadErr(t, LoadOptions{Env: env(tc.vars)})
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	p := writeConfig(t, layered)
	for _, tc := range []struct {
		name string
		o    Overrides
		want string
	}{
		{"no group", Overrides{LLMConfig: "gpt"}, `no [llm.gpt] group in the config file (groups: claude)`},
		{"not key=value", Overrides{Set: []string{"sandbox.timeout"}}, `"sandbox.timeout" is not key=value`},
		{"unknown key", Overrides{Set: []string{"core.max_iteration=3"}}, `core.max_iteration: unknown key "max_iteration" (did you mean "max_iterations"?)`},
		{"bad section", Overrides{Set: []string{"cli.vi_mode=true"}}, `cannot set "cli.vi_mode"`},
		{"bad value", Overrides{Set: []string{"sandbox.timeout=soon"}}, `override: sandbox.timeout: expected an integer, got "soon"`},
		{"strict bool", Overrides{Set: []string{"core.debug=yes"}}, `override: core.debug: expected true or false, got "yes"`},
		{"unknown group", Overrides{Set: []string{"llm.gpt.model=x"}}, `no [llm.gpt] group`},
		{"struct field", Overrides{Set: []string{"agent.condenser=noop"}}, `cannot be set from the command line`},
		{"validation cites override", Overrides{MaxIterations: ptr(-1)}, `override max-iterations: core.max_iterations: must be at least 1, got -1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := loadErr(t, LoadOptions{Path: p, Overrides: tc.o})
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
		})
	}
}
