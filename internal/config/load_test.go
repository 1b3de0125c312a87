package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestLoadFull loads a file that sets every key of every section and checks
// the result field by field, then against a golden rendering.
func TestLoadFull(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{Path: "testdata/full.toml"})
	if len(warns) != 0 {
		t.Errorf("unexpected warnings:\n%s", warningsText(warns))
	}
	c := cfg.Core
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("core.default_agent", c.DefaultAgent, "ReadOnlyAgent")
	check("core.runtime", c.Runtime, "local")
	check("core.file_store_path", c.FileStorePath, "/home/tester/data/oh")
	check("core.file_store_web_hook_headers", c.FileStoreWebHookHeaders, SecretMap{"Authorization": "Bearer hook-secret-1"})
	check("core.search_api_key", c.SearchAPIKey.Reveal(), "tvly-search-secret-2")
	check("core.jwt_secret", c.JWTSecret.Reveal(), "jwt-secret-3")
	check("core.max_iterations", c.MaxIterations, 42)
	check("core.max_budget_per_task", c.MaxBudgetPerTask, ptr(2.5))
	check("core.file_uploads_allowed_extensions", c.FileUploadsAllowedExtensions, []string{".py", ".md"})
	check("core.enable_default_condenser", c.EnableDefaultCondenser, false)
	check("core.max_concurrent_conversations", c.MaxConcurrentConversations, 7)
	check("core.mcp_host", c.MCPHost, "localhost:4000")
	// sandbox.volumes targets /workspace, which sets the workspace fields.
	check("core.workspace_base", c.WorkspaceBase, "/srv/project")
	check("core.workspace_mount_path", c.WorkspaceMountPath, "/srv/project")

	l := cfg.LLM
	check("llm.model", l.Model, "anthropic/claude-sonnet-4-20250514")
	check("llm.api_key", l.APIKey.Reveal(), "sk-ant-secret-4")
	check("llm.aws_secret_access_key", l.AWSSecretAccessKey.Reveal(), "aws-secret-6")
	check("llm.retry_multiplier", l.RetryMultiplier, 1.5)
	check("llm.timeout", l.Timeout, ptr(90))
	check("llm.temperature (TOML integer into a float)", l.Temperature, 1.0)
	check("llm.top_k", l.TopK, ptr(40.0))
	check("llm.max_output_tokens", l.MaxOutputTokens, ptr(64000))
	check("llm.input_cost_per_token", l.InputCostPerToken, ptr(0.000003))
	check("llm.disable_vision", l.DisableVision, ptr(true))
	check("llm.native_tool_calling", l.NativeToolCalling, ptr(true))
	check("llm.seed", l.Seed, ptr(7))
	check("llm.safety_settings", l.SafetySettings, []map[string]any{{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}})
	check("llm.drop_params", l.DropParams, false)

	// Named LLM groups start from [llm] and override it.
	claude, local := cfg.LLMs["claude"], cfg.LLMs["local"]
	check("llm.claude.model", claude.Model, "anthropic/claude-opus-4")
	check("llm.claude.api_key", claude.APIKey.Reveal(), "sk-ant-secret-7")
	check("llm.claude.num_retries (inherited)", claude.NumRetries, 5)
	check("llm.claude.timeout (inherited)", claude.Timeout, ptr(90))
	check("llm.local.num_retries", local.NumRetries, 1)
	check("llm.local.api_key (inherited)", local.APIKey.Reveal(), "sk-ant-secret-4")
	check("llm.local.base_url", local.BaseURL, "http://localhost:8000/v1")
	if claude.Timeout == l.Timeout {
		t.Error("llm.claude shares its timeout pointer with [llm]; groups must be deep copies")
	}

	a := cfg.Agent
	check("agent.llm_config", a.LLMConfig, "claude")
	check("agent.enable_llm_editor", a.EnableLLMEditor, true)
	check("agent.disabled_microagents", a.DisabledMicroagents, []string{"github"})
	check("agent.condenser", a.Condenser, Condenser{Type: "pipeline", Condensers: []Condenser{
		{Type: "conversation_window"},
		{Type: "browser_output_masking", AttentionWindow: 2},
		{Type: "llm", LLMConfig: "local", KeepFirst: 4, MaxSize: 120, MaxEventLength: 10000},
	}})
	ca := cfg.AgentConfig("CodeActAgent")
	check("agent.CodeActAgent.llm_config", ca.LLMConfig, "local")
	check("agent.CodeActAgent.enable_jupyter", ca.EnableJupyter, true)
	check("agent.CodeActAgent.enable_cmd (inherited)", ca.EnableCmd, false)
	check("agent.CodeActAgent.condenser ([condenser] is for [agent] only)", ca.Condenser, Condenser{Type: "noop"})
	check("agent.Custom.classpath", cfg.Agents["Custom"].Classpath, "my.module:MyAgent")
	check("agent.Custom.extended", cfg.Agents["Custom"].Extended, map[string]any{"note": "kept"})

	s := cfg.Sandbox
	check("sandbox.api_key", s.APIKey.Reveal(), "sandbox-secret-8")
	check("sandbox.user_id", s.UserID, 1234)
	check("sandbox.timeout", s.Timeout, 300)
	check("sandbox.runtime_extra_build_args", s.RuntimeExtraBuildArgs, []string{"--network=host"})
	check("sandbox.runtime_startup_env_vars", s.RuntimeStartupEnvVars, SecretMap{"GITHUB_TOKEN": "gh-secret-9", "MODE": "test"})
	check("sandbox.docker_runtime_kwargs", s.DockerRuntimeKwargs, map[string]any{"shm_size": "1g"})
	check("sandbox.vscode_port", s.VSCodePort, ptr(41234))
	check("sandbox.close_delay", s.CloseDelay, 600)
	check("sandbox.mounts", s.Mounts, []Mount{
		{Host: "/srv/project", Container: "/workspace"},
		{Host: "/srv/data", Container: "/data", ReadOnly: true},
	})
	check("sandbox.memory_limit", s.MemoryLimit, "2g")
	if n, err := s.MemoryBytes(); n != 2<<30 || err != nil {
		t.Errorf("MemoryBytes() = %d, %v; want 2 GiB", n, err)
	}
	check("sandbox.cpus", s.CPUs, 1.5)
	check("sandbox.pids_limit", s.PidsLimit, 512)
	check("sandbox.network", s.Network, "none")

	check("security", cfg.Security, Security{ConfirmationMode: true, SecurityAnalyzer: "invariant"})
	check("mcp.sse_servers", cfg.MCP.SSEServers, []MCPServer{
		{URL: "https://mcp.example.com/sse"},
		{URL: "https://mcp2.example.com/sse", APIKey: NewSecret("mcp-secret-10")},
	})
	check("mcp.shttp_servers", cfg.MCP.SHTTPServers, []MCPServer{{URL: "https://mcp3.example.com/mcp", APIKey: NewSecret("mcp-secret-11")}})
	check("mcp.stdio_servers", cfg.MCP.StdioServers, []MCPStdioServer{
		{Name: "fetch", Command: "uvx", Args: []string{"mcp-server-fetch"}, Env: SecretMap{"FETCH_TOKEN": "mcp-secret-12"}},
	})
	check("kubernetes.namespace", cfg.Kubernetes.Namespace, "gohands")
	check("kubernetes.privileged", cfg.Kubernetes.Privileged, true)
	check("extended", cfg.Extended, map[string]any{"feature": map[string]any{"enabled": true, "level": int64(3)}})

	golden(t, "testdata/full.dump.toml", cfg.Dump())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the output; rerun with -update after checking it:\n%s", path, got)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	// An explicit --config-file must exist.
	msg := loadErr(t, LoadOptions{Path: filepath.Join(dir, "nope.toml")})
	if !containsAll(msg, "nope.toml", "no such file") {
		t.Errorf("error = %q, want the path and the cause", msg)
	}
	// The implicit ./config.toml may be absent.
	t.Chdir(dir)
	if _, _, err := Load(LoadOptions{}); err != nil {
		t.Errorf("Load without ./config.toml: %v", err)
	}
	// And is read when present.
	if err := os.WriteFile("config.toml", []byte("[core]\nmax_iterations = 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ := mustLoad(t, LoadOptions{})
	if cfg.Core.MaxIterations != 9 {
		t.Errorf("./config.toml not read: max_iterations = %d", cfg.Core.MaxIterations)
	}
}

// Unknown keys and sections are warnings naming file, line and key; OpenHands
// ignores them too, and its template contains some.
func TestUnknownKeysWarn(t *testing.T) {
	p := writeConfig(t, `[core]
max_iteration = 10
workspace_base = "/w"

[llm]
embedding_model = "local"

[llm.draft_editor]
correct_num = 5

[cli]
vi_mode = true

[agent]
micro_agent_name = ""

[condenser]
type = "recent"
max_size = 3

[mcp]
[[mcp.stdio_servers]]
name = "x"
command = "y"
cwd = "/"

[sandbox]
docker_runtime_kwargs = { anything = "goes" }
timeout = 10
`)
	cfg, warns := mustLoad(t, LoadOptions{Path: p})
	text := warningsText(warns)
	for _, want := range []string{
		p + `:2: unknown key "max_iteration" in [core] (did you mean "max_iterations"?)`,
		p + `:6: unknown key "embedding_model" in [llm]`,
		p + `:9: unknown key "correct_num" in [llm.draft_editor]`,
		p + `:11: unknown section [cli] ignored`,
		p + `:15: unknown key "micro_agent_name" in [agent]`,
		p + `:19: key "max_size" does not apply to condenser type "recent" in [condenser]`,
		p + `:25: unknown key "cwd" in [mcp.stdio_servers[0]]`,
		"core.workspace_base and core.workspace_mount_path are deprecated",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("warnings lack %q; got:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\n"); n != 8 {
		t.Errorf("%d warnings, want 8:\n%s", n, text)
	}
	for _, w := range warns[:7] {
		if w.File != p || w.Line == 0 || w.Key == "" {
			t.Errorf("warning %+v lacks file, line or key", w)
		}
	}
	// The keys that were known still took effect, and the group with an
	// unknown key is kept (OpenHands would drop the whole group).
	if cfg.Sandbox.Timeout != 10 {
		t.Errorf("sandbox.timeout = %d, want 10", cfg.Sandbox.Timeout)
	}
	if _, ok := cfg.LLMs["draft_editor"]; !ok {
		t.Error("[llm.draft_editor] dropped")
	}
}

// Errors carry file:line:column and the key, and all of them are reported.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string
		want []string
	}{
		{"syntax", "[core]\nmax_iterations = = 3\n", []string{"config.toml:2:18: "}},
		{"unterminated string", "[llm]\nmodel = \"gpt\n", []string{"config.toml:2:"}},
		{"bad table header", "[core\n", []string{"config.toml:1:"}},
		{"duplicate key", "[core]\ndebug = true\n\n\ndebug = false\n", []string{"config.toml:5:1: key debug is already defined"}},
		{"table defined twice", "[llm]\nmodel = \"a\"\n[sandbox]\n[llm]\n", []string{"config.toml:4:2: table llm already exists"}},
		{"wrong type", "[core]\n\nmax_iterations = \"ten\"\n", []string{`config.toml:3:1: core.max_iterations: expected an integer, got string "ten"`}},
		{"wrong type in group", "[llm.claude]\nnum_retries = 1.5\n", []string{`config.toml:2:1: llm.claude.num_retries: expected an integer, got float 1.5`}},
		{"bool as string", "[security]\nconfirmation_mode = \"yes\"\n", []string{`config.toml:2:1: security.confirmation_mode: expected a boolean (true or false), got string "yes"`}},
		{"list element", "[sandbox]\ntrusted_dirs = [\"/a\", 3]\n", []string{`config.toml:2:23: sandbox.trusted_dirs[1]: expected a string, got integer 3`}},
		{"map value", "[sandbox]\nruntime_startup_env_vars = { A = 1 }\n", []string{`config.toml:2:30: sandbox.runtime_startup_env_vars.A: expected a string, got integer 1`}},
		{"section not a table", "core = 3\n", []string{`config.toml:1:1: core: expected a table (a [core] section), got integer 3`}},
		{"mcp server", "[mcp]\nsse_servers = [3]\n", []string{`mcp.sse_servers[0]: expected a URL string or a table, got integer 3`}},
		{"condenser type", "[condenser]\ntype = 3\n", []string{`config.toml:2:1: condenser.type: expected a string, got integer 3`}},
		{"two errors", "[core]\nmax_iterations = \"x\"\n[sandbox]\ntimeout = \"y\"\n", []string{"config.toml:2:1: core.max_iterations", "config.toml:4:1: sandbox.timeout"}},
		{"validation from file", "[sandbox]\n\ntimeout = 0\n", []string{"config.toml:3:1: sandbox.timeout: must be positive, got 0"}},
		{"bad volumes", "[sandbox]\nvolumes = \"/a:/b:/c:/d\"\n", []string{`config.toml:2:1: sandbox.volumes: "/a:/b:/c:/d": want host:container or host:container:mode`}},
		{"bad mount mode", "[sandbox]\nvolumes = \"/a:/b:rx\"\n", []string{`mode "rx" must be rw or ro`}},
		{"unknown runtime", "[core]\nruntime = \"e2b\"\n", []string{`core.runtime: "e2b" is not one of docker, eventstream, local, remote, kubernetes, cli`}},
		{"inherited bad value", "[llm]\nnum_retries = -1\n[llm.x]\nmodel = \"m\"\n", []string{"config.toml:2:1: llm.num_retries", "config.toml:2:1: llm.x.num_retries"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(p, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir) // so the file is named config.toml in messages
			cfg, _, err := Load(LoadOptions{Path: "config.toml"})
			if err == nil {
				t.Fatalf("no error; config:\n%s", cfg)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error", err)
			}
		})
	}
}
