package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// runtimes are the values core.runtime accepts. OpenHands also loads
// third-party runtimes (daytona, e2b, modal, runloop) from Python packages;
// gohands cannot, so those are errors rather than a failure at first use.
var runtimes = []string{"docker", "eventstream", "local", "remote", "kubernetes", "cli"}

// fileStores are the values core.file_store accepts. OpenHands silently uses
// an in-memory store for any other value; gohands rejects typos instead.
var fileStores = []string{"local", "memory", "s3", "google_cloud"}

// Validate reports values that cannot work: negative counts, timeouts ≤ 0,
// unknown runtime or file store names, bad URLs and mount specs. It returns
// nil or one *Error per problem, joined. It does not modify c.
func (c *Config) Validate() error {
	var v validator
	core := c.Core
	v.oneOf("core.runtime", core.Runtime, runtimes)
	v.oneOf("core.file_store", core.FileStore, fileStores)
	v.check(core.MaxIterations >= 1, "core.max_iterations", "must be at least 1, got %d", core.MaxIterations)
	if b := core.MaxBudgetPerTask; b != nil {
		v.check(*b >= 0, "core.max_budget_per_task", "must not be negative, got %g", *b)
	}
	v.check(core.MaxConcurrentConversations >= 1, "core.max_concurrent_conversations", "must be at least 1, got %d", core.MaxConcurrentConversations)
	v.check(core.ConversationMaxAgeSeconds >= 0, "core.conversation_max_age_seconds", "must not be negative, got %d", core.ConversationMaxAgeSeconds)
	v.check(core.FileUploadsMaxFileSizeMB >= 0, "core.file_uploads_max_file_size_mb", "must not be negative, got %d", core.FileUploadsMaxFileSizeMB)
	v.check(path.IsAbs(core.WorkspaceMountPathInSandbox), "core.workspace_mount_path_in_sandbox", "must be an absolute path, got %q", core.WorkspaceMountPathInSandbox)

	v.llm("llm", c.LLM)
	for _, name := range sortedKeys(c.LLMs) {
		v.llm("llm."+name, c.LLMs[name])
	}
	v.condenser("condenser", c.Agent.Condenser)
	for _, name := range sortedKeys(c.Agents) {
		v.condenser("agent."+name+".condenser", c.Agents[name].Condenser)
	}
	v.sandbox(c.Sandbox)
	v.mcp(c.MCP)
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) check(ok bool, key, format string, args ...any) {
	if !ok {
		v.errs = append(v.errs, &Error{Key: key, Err: fmt.Errorf(format, args...)})
	}
}

func (v *validator) oneOf(key, val string, allowed []string) {
	v.check(contains(allowed, val), key, "%q is not one of %s", val, strings.Join(allowed, ", "))
}

func (v *validator) llm(key string, g LLM) {
	v.check(g.NumRetries >= 0, key+".num_retries", "must not be negative, got %d", g.NumRetries)
	v.check(g.RetryMinWait >= 0, key+".retry_min_wait", "must not be negative, got %d", g.RetryMinWait)
	v.check(g.RetryMaxWait >= g.RetryMinWait, key+".retry_max_wait", "must be at least retry_min_wait (%d), got %d", g.RetryMinWait, g.RetryMaxWait)
	v.check(g.RetryMultiplier >= 0, key+".retry_multiplier", "must not be negative, got %g", g.RetryMultiplier)
	if g.Timeout != nil {
		v.check(*g.Timeout > 0, key+".timeout", "must be positive, got %d", *g.Timeout)
	}
	v.check(g.MaxMessageChars >= 0, key+".max_message_chars", "must not be negative, got %d", g.MaxMessageChars)
	v.check(g.Temperature >= 0, key+".temperature", "must not be negative, got %g", g.Temperature)
	v.check(g.TopP >= 0 && g.TopP <= 1, key+".top_p", "must be between 0 and 1, got %g", g.TopP)
	if g.MaxInputTokens != nil {
		v.check(*g.MaxInputTokens > 0, key+".max_input_tokens", "must be positive, got %d", *g.MaxInputTokens)
	}
	if g.MaxOutputTokens != nil {
		v.check(*g.MaxOutputTokens > 0, key+".max_output_tokens", "must be positive, got %d", *g.MaxOutputTokens)
	}
}

// condenser checks the bounds OpenHands' condenser models declare.
func (v *validator) condenser(key string, c Condenser) {
	switch c.Type {
	case CondenserObservationMasking, CondenserBrowserOutputMasking:
		v.check(c.AttentionWindow >= 1, key+".attention_window", "must be at least 1, got %d", c.AttentionWindow)
	case CondenserRecent:
		v.check(c.KeepFirst >= 0, key+".keep_first", "must not be negative, got %d", c.KeepFirst)
		v.check(c.MaxEvents >= 1, key+".max_events", "must be at least 1, got %d", c.MaxEvents)
	case CondenserLLM, CondenserAmortized, CondenserLLMAttention, CondenserStructured:
		v.check(c.KeepFirst >= 0, key+".keep_first", "must not be negative, got %d", c.KeepFirst)
		v.check(c.MaxSize >= 2, key+".max_size", "must be at least 2, got %d", c.MaxSize)
		if c.Type == CondenserLLM || c.Type == CondenserStructured {
			v.check(c.MaxEventLength >= 1, key+".max_event_length", "must be at least 1, got %d", c.MaxEventLength)
		}
	case CondenserPipeline:
		for i, s := range c.Condensers {
			v.condenser(fmt.Sprintf("%s.condensers[%d]", key, i), s)
		}
	case CondenserNoop, CondenserConversationWindow:
	default:
		v.check(false, key+".type", "unknown condenser type %q", c.Type)
	}
}

func (v *validator) sandbox(s Sandbox) {
	v.check(s.Timeout > 0, "sandbox.timeout", "must be positive, got %d", s.Timeout)
	v.check(s.CloseDelay >= 0, "sandbox.close_delay", "must not be negative (0 = never close), got %d", s.CloseDelay)
	v.check(s.RemoteRuntimeInitTimeout > 0, "sandbox.remote_runtime_init_timeout", "must be positive, got %d", s.RemoteRuntimeInitTimeout)
	v.check(s.RemoteRuntimeAPITimeout > 0, "sandbox.remote_runtime_api_timeout", "must be positive, got %d", s.RemoteRuntimeAPITimeout)
	v.check(s.RemoteRuntimeResourceFactor >= 1, "sandbox.remote_runtime_resource_factor", "must be at least 1, got %d", s.RemoteRuntimeResourceFactor)
	v.check(s.UserID >= 0, "sandbox.user_id", "must not be negative, got %d", s.UserID)
	if s.VSCodePort != nil {
		v.check(*s.VSCodePort > 0 && *s.VSCodePort < 65536, "sandbox.vscode_port", "must be a port number, got %d", *s.VSCodePort)
	}
	if _, err := parseVolumes(s.Volumes); err != nil {
		v.check(false, "sandbox.volumes", "%v", err)
	}
	if _, err := s.MemoryBytes(); err != nil {
		v.check(false, "sandbox.memory_limit", "%v", err)
	}
	v.check(s.CPUs >= 0, "sandbox.cpus", "must not be negative (0 = no limit), got %g", s.CPUs)
	v.check(s.PidsLimit >= 0, "sandbox.pids_limit", "must not be negative (0 = no limit), got %d", s.PidsLimit)
	v.check(!s.UseHostNetwork || s.Network == "" || s.Network == "host", "sandbox.network",
		"%q conflicts with use_host_network = true", s.Network)
}

func (v *validator) mcp(m MCP) {
	v.servers("mcp.sse_servers", m.SSEServers)
	v.servers("mcp.shttp_servers", m.SHTTPServers)
	for i, s := range m.StdioServers {
		key := fmt.Sprintf("mcp.stdio_servers[%d]", i)
		v.check(s.Name != "", key+".name", "is required")
		v.check(s.Command != "", key+".command", "is required")
	}
}

func (v *validator) servers(key string, list []MCPServer) {
	seen := map[string]bool{}
	for i, s := range list {
		k := fmt.Sprintf("%s[%d].url", key, i)
		u, err := url.Parse(s.URL)
		v.check(err == nil && u.Scheme != "" && u.Host != "", k, "%q is not a URL with a scheme and a host", s.URL)
		v.check(!seen[s.URL], k, "%q is listed twice", s.URL)
		seen[s.URL] = true
	}
}
