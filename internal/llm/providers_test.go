package llm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/llm"
)

// seen is one request as an OpenAI-compatible endpoint received it.
type seen struct {
	path, query string
	header      http.Header
	body        map[string]any
	raw         string
}

// newRecordingServer answers every request with a short chat completion and keeps what it saw.
func newRecordingServer(t *testing.T) (string, func() seen) {
	t.Helper()
	var mu sync.Mutex
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		mu.Lock()
		last = seen{path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body, raw: string(raw)}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() seen { mu.Lock(); defer mu.Unlock(); return last }
}

func TestOpenAICompatibleProviders(t *testing.T) {
	cases := []struct {
		name  string
		model string
		key   string
		edit  func(*config.LLM)
		req   llm.Request
		check func(t *testing.T, s seen)
	}{
		{name: "azure deployment URL, api-key header", model: "azure/my-gpt4o", key: testKey,
			edit: func(c *config.LLM) { c.MaxOutputTokens = ptr(500) },
			check: func(t *testing.T, s seen) {
				if s.path != "/openai/deployments/my-gpt4o/chat/completions" || s.query != "api-version=2024-12-01-preview" {
					t.Errorf("path %s?%s", s.path, s.query)
				}
				if s.header.Get("Api-Key") != testKey || s.header.Get("Authorization") != "" {
					t.Errorf("auth headers: api-key set %v, authorization %q", s.header.Get("Api-Key") != "", s.header.Get("Authorization"))
				}
				if s.body["max_tokens"] != 500.0 || s.body["max_completion_tokens"] != nil {
					t.Errorf("Azure takes max_tokens: %s", s.raw)
				}
			}},
		{name: "ollama without a key sends no Authorization", model: "ollama/llama3",
			check: func(t *testing.T, s seen) {
				if s.path != "/v1/chat/completions" || s.header.Get("Authorization") != "" || s.body["model"] != "llama3" {
					t.Errorf("path %s authorization %q model %v", s.path, s.header.Get("Authorization"), s.body["model"])
				}
			}},
		{name: "openrouter attribution headers", model: "openrouter/anthropic/claude-3.5-sonnet", key: testKey,
			check: func(t *testing.T, s seen) {
				if s.header.Get("Http-Referer") != "https://docs.all-hands.dev/" || s.header.Get("X-Title") != "OpenHands" || s.body["model"] != "anthropic/claude-3.5-sonnet" {
					t.Errorf("headers %v model %v", s.header, s.body["model"])
				}
			}},
		{name: "openai reasoning model", model: "openai/o3", key: testKey,
			edit: func(c *config.LLM) { c.MaxOutputTokens = ptr(2000) },
			check: func(t *testing.T, s seen) {
				if s.body["reasoning_effort"] != "high" || s.body["temperature"] != nil || s.body["top_p"] != nil || s.body["max_completion_tokens"] != 2000.0 {
					t.Errorf("body = %s", s.raw)
				}
			}},
		{name: "litellm proxy: metadata and cache_control", model: "litellm_proxy/claude-sonnet-4-20250514", key: testKey,
			req: llm.Request{Metadata: map[string]any{"session_id": "abc", "tags": []string{"agent:CodeActAgent"}},
				Messages: []llm.Message{{Role: llm.RoleSystem, Content: []llm.ContentPart{{Type: "text", Text: "sys", CacheControl: true}}}, {Role: llm.RoleUser, Content: llm.Text("hi")}}},
			check: func(t *testing.T, s seen) {
				md, _ := s.body["metadata"].(map[string]any)
				if md["session_id"] != "abc" {
					t.Errorf("metadata = %v", s.body["metadata"])
				}
				if !strings.Contains(s.raw, `{"text":"sys","type":"text","cache_control":{"type":"ephemeral"}}`) {
					t.Errorf("cache_control missing: %s", s.raw)
				}
				if !strings.Contains(s.raw, `"content":"hi"`) {
					t.Errorf("plain text should go as a string: %s", s.raw)
				}
			}},
		{name: "plain openai: no metadata, top_k and seed", model: "openai/gpt-4o", key: testKey,
			edit: func(c *config.LLM) { c.TopK, c.Seed = ptr(40.0), ptr(7) },
			req:  llm.Request{Metadata: map[string]any{"session_id": "abc"}, Messages: conversation("hi")},
			check: func(t *testing.T, s seen) {
				if s.body["metadata"] != nil || s.body["top_k"] != 40.0 || s.body["seed"] != 7.0 || s.body["temperature"] != 0.0 || s.body["top_p"] != 1.0 {
					t.Errorf("body = %s", s.raw)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, last := newRecordingServer(t)
			cfg := config.DefaultLLM()
			cfg.Model, cfg.BaseURL, cfg.APIKey = tc.model, url, config.NewSecret(tc.key)
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			c, err := llm.New(cfg, llm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			req := tc.req
			if req.Messages == nil {
				req.Messages = conversation("hi")
			}
			if _, err := c.Complete(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			tc.check(t, last())
		})
	}
}
