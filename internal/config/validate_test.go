package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"core.max_iterations", func(c *Config) { c.Core.MaxIterations = -1 }},
		{"core.max_iterations", func(c *Config) { c.Core.MaxIterations = 0 }},
		{"core.runtime", func(c *Config) { c.Core.Runtime = "daytona" }},
		{"core.file_store", func(c *Config) { c.Core.FileStore = "locl" }},
		{"core.max_budget_per_task", func(c *Config) { c.Core.MaxBudgetPerTask = ptr(-1.0) }},
		{"core.max_concurrent_conversations", func(c *Config) { c.Core.MaxConcurrentConversations = 0 }},
		{"core.workspace_mount_path_in_sandbox", func(c *Config) { c.Core.WorkspaceMountPathInSandbox = "workspace" }},
		{"llm.timeout", func(c *Config) { c.LLM.Timeout = ptr(0) }},
		{"llm.retry_max_wait", func(c *Config) { c.LLM.RetryMaxWait = 1 }},
		{"llm.top_p", func(c *Config) { c.LLM.TopP = 1.5 }},
		{"llm.x.num_retries", func(c *Config) { g := DefaultLLM(); g.NumRetries = -1; c.LLMs["x"] = g }},
		{"condenser.max_size", func(c *Config) { c.Agent.Condenser = Condenser{Type: "llm", MaxSize: 1, MaxEventLength: 1} }},
		{"condenser.condensers[0].attention_window", func(c *Config) {
			c.Agent.Condenser = Condenser{Type: "pipeline", Condensers: []Condenser{{Type: "observation_masking"}}}
		}},
		{"sandbox.timeout", func(c *Config) { c.Sandbox.Timeout = 0 }},
		{"sandbox.close_delay", func(c *Config) { c.Sandbox.CloseDelay = -1 }},
		{"sandbox.vscode_port", func(c *Config) { c.Sandbox.VSCodePort = ptr(70000) }},
		{"sandbox.volumes", func(c *Config) { c.Sandbox.Volumes = "/a:/b:/c:/d" }},
		{"sandbox.memory_limit", func(c *Config) { c.Sandbox.MemoryLimit = "lots" }},
		{"sandbox.cpus", func(c *Config) { c.Sandbox.CPUs = -1 }},
		{"sandbox.pids_limit", func(c *Config) { c.Sandbox.PidsLimit = -1 }},
		{"sandbox.network", func(c *Config) { c.Sandbox.UseHostNetwork, c.Sandbox.Network = true, "none" }},
		{"mcp.sse_servers[0].url", func(c *Config) { c.MCP.SSEServers = []MCPServer{{URL: "localhost:8080"}} }},
		{"mcp.shttp_servers[1].url", func(c *Config) { c.MCP.SHTTPServers = []MCPServer{{URL: "http://a"}, {URL: "http://a"}} }},
		{"mcp.stdio_servers[0].command", func(c *Config) { c.MCP.StdioServers = []MCPStdioServer{{Name: "x"}} }},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			err := c.Validate()
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v, want a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.key+": ") {
				t.Errorf("Validate() = %q, want it to name %s", err, tc.key)
			}
		})
	}
}

func TestMemoryBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"1024", 1024, true}, {"512m", 512 << 20, true}, {"2G", 2 << 30, true},
		{"1.5g", 3 << 29, true}, {"64MiB", 64 << 20, true}, {"100kb", 100 << 10, true},
		{"lots", 0, false}, {"-1g", 0, false}, {"g", 0, false}, {"99999999999p", 0, false},
	} {
		got, err := Sandbox{MemoryLimit: tc.in}.MemoryBytes()
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("MemoryBytes(%q) = %d, %v; want %d, ok %t", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
