package config

import (
	"os"
	"reflect"
	"testing"
)

// TestDefaults checks the values OpenHands 0.50's code gives when nothing is
// configured (the code, not config.template.toml, which disagrees in places).
func TestDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./config.toml
	cfg, warns := mustLoad(t, LoadOptions{})
	if len(warns) != 0 {
		t.Errorf("warnings with no config: %v", warns)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"core.max_iterations", cfg.Core.MaxIterations, 500},
		{"core.default_agent", cfg.Core.DefaultAgent, "CodeActAgent"},
		{"core.runtime", cfg.Core.Runtime, "docker"},
		{"core.file_store", cfg.Core.FileStore, "local"},
		{"core.file_store_path", cfg.Core.FileStorePath, "/home/tester/.openhands"},
		{"core.max_concurrent_conversations", cfg.Core.MaxConcurrentConversations, 3},
		{"core.conversation_max_age_seconds", cfg.Core.ConversationMaxAgeSeconds, 864000},
		{"core.workspace_mount_path_in_sandbox", cfg.Core.WorkspaceMountPathInSandbox, "/workspace"},
		{"core.enable_default_condenser", cfg.Core.EnableDefaultCondenser, true},
		{"core.enable_browser", cfg.Core.EnableBrowser, true},
		{"core.run_as_openhands", cfg.Core.RunAsOpenHands, true},
		{"core.cache_dir", cfg.Core.CacheDir, "/tmp/cache"},
		{"core.max_budget_per_task", cfg.Core.MaxBudgetPerTask, (*float64)(nil)},
		{"core.file_uploads_allowed_extensions", cfg.Core.FileUploadsAllowedExtensions, []string{".*"}},
		{"core.mcp_host", cfg.Core.MCPHost, "localhost:3000"},
		{"core.jwt_secret set", cfg.Core.JWTSecret.IsSet(), false},
		{"llm.model", cfg.LLM.Model, "claude-sonnet-4-20250514"},
		{"llm.num_retries", cfg.LLM.NumRetries, 4},
		{"llm.retry_min_wait", cfg.LLM.RetryMinWait, 5},
		{"llm.retry_max_wait", cfg.LLM.RetryMaxWait, 30},
		{"llm.retry_multiplier", cfg.LLM.RetryMultiplier, 2.0},
		{"llm.max_message_chars", cfg.LLM.MaxMessageChars, 30000},
		{"llm.temperature", cfg.LLM.Temperature, 0.0},
		{"llm.top_p", cfg.LLM.TopP, 1.0},
		{"llm.drop_params", cfg.LLM.DropParams, true},
		{"llm.modify_params", cfg.LLM.ModifyParams, true},
		{"llm.caching_prompt", cfg.LLM.CachingPrompt, true},
		{"llm.reasoning_effort", cfg.LLM.ReasoningEffort, "high"},
		{"llm.timeout", cfg.LLM.Timeout, (*int)(nil)},
		{"llm.native_tool_calling", cfg.LLM.NativeToolCalling, (*bool)(nil)},
		{"llm.openrouter_app_name", cfg.LLM.OpenRouterAppName, "OpenHands"},
		{"agent.system_prompt_filename", cfg.Agent.SystemPromptFilename, "system_prompt.j2"},
		{"agent.enable_jupyter", cfg.Agent.EnableJupyter, true},
		{"agent.enable_llm_editor", cfg.Agent.EnableLLMEditor, false},
		{"agent.condenser (no config file)", cfg.Agent.Condenser, Condenser{Type: "noop"}},
		{"sandbox.timeout", cfg.Sandbox.Timeout, 120},
		{"sandbox.close_delay", cfg.Sandbox.CloseDelay, 3600},
		{"sandbox.base_container_image", cfg.Sandbox.BaseContainerImage, "nikolaik/python-nodejs:python3.12-nodejs22"},
		{"sandbox.user_id", cfg.Sandbox.UserID, os.Getuid()},
		{"sandbox.pause_closed_runtimes", cfg.Sandbox.PauseClosedRuntimes, true},
		{"sandbox.remote_runtime_init_timeout", cfg.Sandbox.RemoteRuntimeInitTimeout, 180},
		{"sandbox.remote_runtime_api_timeout", cfg.Sandbox.RemoteRuntimeAPITimeout, 10},
		{"sandbox.runtime_binding_address", cfg.Sandbox.RuntimeBindingAddress, "0.0.0.0"},
		{"sandbox.local_runtime_url", cfg.Sandbox.LocalRuntimeURL, "http://localhost"},
		{"sandbox.remote_runtime_api_url", cfg.Sandbox.RemoteRuntimeAPIURL, "http://localhost:8000"},
		{"sandbox.memory_limit", cfg.Sandbox.MemoryLimit, ""},
		{"sandbox.cpus", cfg.Sandbox.CPUs, 0.0},
		{"sandbox.pids_limit", cfg.Sandbox.PidsLimit, 0},
		{"sandbox.network", cfg.Sandbox.Network, ""},
		{"sandbox.mounts", cfg.Sandbox.Mounts, []Mount(nil)},
		{"security.confirmation_mode", cfg.Security.ConfirmationMode, false},
		{"kubernetes.namespace", cfg.Kubernetes.Namespace, "default"},
		{"kubernetes.pvc_storage_size", cfg.Kubernetes.PVCStorageSize, "2Gi"},
		{"kubernetes.resource_memory_limit", cfg.Kubernetes.ResourceMemoryLimit, "2Gi"},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

// A config file that exists but has no [condenser] gives the default agent
// OpenHands' LLM-summarising condenser; enable_default_condenser = false or
// a [condenser] section prevents that.
func TestDefaultCondenserRule(t *testing.T) {
	llm := DefaultCondenser(CondenserLLM)
	for _, tc := range []struct {
		name string
		toml string
		env  map[string]string
		want Condenser
	}{
		{"empty file", "", nil, llm},
		// OpenHands decides before applying the environment; gohands after.
		{"disabled by env", "", map[string]string{"ENABLE_DEFAULT_CONDENSER": "false"}, Condenser{Type: "noop"}},
		{"disabled", "[core]\nenable_default_condenser = false\n", nil, Condenser{Type: "noop"}},
		{"explicit section", "[condenser]\ntype = \"recent\"\nmax_events = 50\n", nil, Condenser{Type: "recent", KeepFirst: 1, MaxEvents: 50}},
		{"agent table", "[agent]\ncondenser = { type = \"observation_masking\" }\n", nil, Condenser{Type: "observation_masking", AttentionWindow: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := mustLoad(t, LoadOptions{Path: writeConfig(t, tc.toml), Env: env(tc.env)})
			if !reflect.DeepEqual(cfg.Agent.Condenser, tc.want) {
				t.Errorf("condenser = %+v, want %+v", cfg.Agent.Condenser, tc.want)
			}
		})
	}
	if llm.KeepFirst != 1 || llm.MaxSize != 100 || llm.LLMConfig != "" {
		t.Errorf("default llm condenser = %+v, want keep_first 1, max_size 100, default LLM group", llm)
	}
}

func TestLLMConfigLookup(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{Path: writeConfig(t, `
[llm]
model = "base"
[llm.fast]
model = "fast"
[agent]
llm_config = "fast"
[agent.Slow]
llm_config = "missing"
`)})
	for _, tc := range []struct{ name, want string }{
		{"", "base"}, {"llm", "base"}, {"fast", "fast"}, {"missing", "base"},
	} {
		if got := cfg.LLMConfig(tc.name).Model; got != tc.want {
			t.Errorf("LLMConfig(%q).Model = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := cfg.LLMConfig(cfg.AgentConfig("CodeActAgent").LLMConfig).Model; got != "fast" {
		t.Errorf("CodeActAgent (default group) uses %q, want fast", got)
	}
	if got := cfg.AgentConfig("Slow").LLMConfig; got != "missing" {
		t.Errorf("AgentConfig(Slow).LLMConfig = %q", got)
	}
	if text := warningsText(warns); !containsAll(text, `config.toml:9:`, `agent.Slow.llm_config: no [llm.missing] group`) {
		t.Errorf("warnings = %q, want one about agent.Slow.llm_config at line 9", text)
	}
}
