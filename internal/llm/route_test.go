package llm

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/config"
)

func TestResolveRoute(t *testing.T) {
	cases := []struct {
		model, baseURL         string
		provider, api, sent    string
		wantBase               string
		wantErr                string
		customProvider         string
		ollamaBase             string
		wantLitellm, wantAzure bool
	}{
		{model: "openai/gpt-4o", provider: "openai", api: apiOpenAI, sent: "gpt-4o", wantBase: "https://api.openai.com/v1/"},
		{model: "gpt-4.1", provider: "openai", api: apiOpenAI, sent: "gpt-4.1", wantBase: "https://api.openai.com/v1/"},
		{model: "o3-mini", provider: "openai", api: apiOpenAI, sent: "o3-mini"},
		{model: "claude-sonnet-4-20250514", provider: "anthropic", api: apiAnthropic, sent: "claude-sonnet-4-20250514", wantBase: "https://api.anthropic.com/"},
		{model: "anthropic/claude-3-5-haiku-20241022", baseURL: "https://proxy.example/v1/messages", provider: "anthropic", api: apiAnthropic, sent: "claude-3-5-haiku-20241022", wantBase: "https://proxy.example/"},
		{model: "gemini-2.5-pro", provider: "gemini", api: apiGemini, sent: "gemini-2.5-pro", wantBase: "https://generativelanguage.googleapis.com/"},
		{model: "gemini/gemini-2.5-flash", baseURL: "http://127.0.0.1:9/v1beta", provider: "gemini", api: apiGemini, sent: "gemini-2.5-flash", wantBase: "http://127.0.0.1:9/"},
		{model: "ollama/llama3", provider: "ollama", api: apiOpenAI, sent: "llama3", wantBase: "http://localhost:11434/v1/"},
		{model: "ollama/llama3", baseURL: "http://gpu:11434", provider: "ollama", sent: "llama3", wantBase: "http://gpu:11434/v1/"},
		{model: "ollama_chat/qwen3:8b", ollamaBase: "http://box:11434", provider: "ollama_chat", sent: "qwen3:8b", wantBase: "http://box:11434/v1/"},
		{model: "openrouter/anthropic/claude-3.5-sonnet", provider: "openrouter", api: apiOpenAI, sent: "anthropic/claude-3.5-sonnet", wantBase: "https://openrouter.ai/api/v1/"},
		{model: "deepseek/deepseek-chat", provider: "deepseek", sent: "deepseek-chat", wantBase: "https://api.deepseek.com/v1/"},
		{model: "groq/llama-3.3-70b-versatile", provider: "groq", sent: "llama-3.3-70b-versatile", wantBase: "https://api.groq.com/openai/v1/"},
		{model: "litellm_proxy/claude-sonnet-4", baseURL: "http://proxy:4000", provider: "litellm_proxy", sent: "claude-sonnet-4", wantBase: "http://proxy:4000/", wantLitellm: true},
		{model: "openhands/claude-sonnet-4-20250514", provider: "litellm_proxy", sent: "claude-sonnet-4-20250514", wantBase: openHandsProxy, wantLitellm: true},
		{model: "hosted_vllm/Qwen/Qwen3-32B", baseURL: "http://vllm:8000/v1", provider: "hosted_vllm", sent: "Qwen/Qwen3-32B", wantBase: "http://vllm:8000/v1/"},
		{model: "azure/my-deployment", baseURL: "https://res.openai.azure.com", provider: "azure", sent: "my-deployment", wantAzure: true},
		{model: "meta-llama/Llama-3-70b", baseURL: "http://local:8000/v1", provider: "openai", sent: "meta-llama/Llama-3-70b"},
		{model: "my-model", baseURL: "http://local:8000/v1", provider: "openai", sent: "my-model"},
		{model: "my-model", customProvider: "groq", provider: "groq", sent: "my-model"},
		{model: "my-model", wantErr: "cannot tell which provider"},
		{model: "hosted_vllm/x", wantErr: "needs base_url"},
		{model: "bedrock/anthropic.claude-v2", wantErr: "not supported"},
		{model: "", wantErr: "no LLM model"},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			cfg := config.DefaultLLM()
			cfg.Model, cfg.BaseURL, cfg.CustomLLMProvider, cfg.OllamaBaseURL = tc.model, tc.baseURL, tc.customProvider, tc.ollamaBase
			r, err := resolveRoute(cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.provider != tc.provider || r.model != tc.sent || (tc.api != "" && r.api != tc.api) ||
				(tc.wantBase != "" && r.baseURL != tc.wantBase) || r.litellmProxy != tc.wantLitellm || r.azure != tc.wantAzure {
				t.Errorf("route = %+v", r)
			}
		})
	}
}

func TestBackoffFollowsTenacity(t *testing.T) {
	p := newRetryPolicy(config.DefaultLLM()) // 4 attempts, ×2, 5..30 s
	want := []time.Duration{5 * time.Second, 5 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if p.attempts != 4 {
		t.Errorf("attempts = %d", p.attempts)
	}
	if got := p.backoff(200); got != 30*time.Second {
		t.Errorf("backoff(200) = %v", got)
	}
	if got := p.wait(1, 45*time.Second); got != 30*time.Second {
		t.Errorf("Retry-After beyond max_wait: %v", got)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(20 * time.Second).Format(http.TimeFormat)}}, 20 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{}, 0},
	}
	for _, tc := range cases {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestLookupModel(t *testing.T) {
	cases := map[string]float64{
		"claude-sonnet-4-20250514":               3e-6,
		"anthropic/claude-3.5-sonnet":            3e-6,
		"claude-3-5-haiku-20241022":              0.8e-6,
		"openrouter/openai/gpt-4o-2024-08-06":    2.5e-6,
		"gpt-4o-mini-2024-07-18":                 0.15e-6,
		"gpt-4.1-mini":                           0.4e-6,
		"o3":                                     2e-6,
		"o3-mini-2025-01-31":                     1.1e-6,
		"o4-mini":                                1.1e-6,
		"gemini-2.5-pro-preview-06-05":           1.25e-6,
		"deepseek-chat":                          0.27e-6,
		"litellm_proxy/claude-sonnet-4-20250514": 3e-6,
	}
	for name, in := range cases {
		f, ok := lookupModel(name)
		if !ok || f.input != in {
			t.Errorf("lookupModel(%q) = %+v %v, want input %v", name, f, ok, in)
		}
	}
	for _, name := range []string{"llama3", "gpt-4", "o", "mistral-large"} {
		if _, ok := lookupModel(name); ok {
			t.Errorf("lookupModel(%q) found a price", name)
		}
	}
	f, _ := lookupModel("gemini-2.5-pro")
	if c := f.cost(Usage{PromptTokens: 300000, CompletionTokens: 1000}); math.Abs(c-(300000*2.5e-6+1000*15e-6)) > 1e-12 {
		t.Errorf("long-prompt Gemini price = %v", c)
	}
	a, _ := lookupModel("claude-sonnet-4")
	if c := a.cost(Usage{PromptTokens: 4204, CompletionTokens: 50, CacheReadTokens: 3000, CacheWriteTokens: 1200}); math.Abs(c-(4*3e-6+3000*0.3e-6+1200*3.75e-6+50*15e-6)) > 1e-12 {
		t.Errorf("cached Claude price = %v", c)
	}
}

func TestCapabilities(t *testing.T) {
	cases := []struct {
		model                      string
		native, caching, reasoning bool
	}{
		{"anthropic/claude-sonnet-4-20250514", true, true, false},
		{"claude-3-5-sonnet-20241022", true, true, false},
		{"openai/gpt-4o", true, false, false},
		{"openai/o3", true, false, true},
		{"gemini/gemini-2.5-pro", true, false, true},
		{"gemini/gemini-2.5-flash", false, false, true},
		{"ollama/llama3", false, false, false},
		{"openrouter/moonshotai/kimi-k2-instruct", true, false, false},
		{"litellm_proxy/claude-sonnet-4", true, true, false},
	}
	for _, tc := range cases {
		cfg := config.DefaultLLM()
		cfg.Model, cfg.BaseURL, cfg.APIKey = tc.model, "http://127.0.0.1:9", config.NewSecret("k")
		cl, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := cl.(*client)
		if c.native != tc.native || c.caching != tc.caching || c.reasoning != tc.reasoning {
			t.Errorf("%s: native %v caching %v reasoning %v", tc.model, c.native, c.caching, c.reasoning)
		}
	}
}
