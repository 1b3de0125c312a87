package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

func TestAnthropicTextAnswer(t *testing.T) {
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{llmtest.Reply("Hi!").WithUsage(9, 2)})
	c, _ := newClient(t, "anthropic/claude-sonnet-4-20250514", srv.URL, nil)
	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("Say hi.")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "Hi!" || resp.FinishReason != "stop" || resp.ID != "msg_llmtest_1" {
		t.Fatalf("response = %+v", resp)
	}
	r := srv.Requests()[0]
	if r.Model != "claude-sonnet-4-20250514" {
		t.Errorf("model sent = %q", r.Model)
	}
	if r.Header.Get("X-Api-Key") != testKey || r.Header.Get("Anthropic-Version") == "" {
		t.Errorf("headers: x-api-key set %v, anthropic-version %q", r.Header.Get("X-Api-Key") != "", r.Header.Get("Anthropic-Version"))
	}
	if r.System != "You are a careful engineer." || len(r.Messages) != 1 || r.Messages[0].Text != "Say hi." {
		t.Errorf("system %q messages %+v", r.System, r.Messages)
	}
	var body struct {
		MaxTokens   int      `json:"max_tokens"`
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"top_p"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if body.MaxTokens != 64000 || body.Temperature == nil || *body.Temperature != 0 || body.TopP != nil {
		t.Errorf("max_tokens %d temperature %v top_p %v: want the model's 64000, 0, omitted", body.MaxTokens, body.Temperature, body.TopP)
	}
}

func TestAnthropicToolUseAndModelResponse(t *testing.T) {
	turn := llmtest.Calls("I'll list them.",
		llmtest.ToolCall{ID: "toolu_01A", Name: "execute_bash", Args: `{"command":"ls"}`},
		llmtest.ToolCall{ID: "toolu_01B", Name: "execute_bash", Args: `{"command":"pwd"}`})
	turn.PromptTokens, turn.CompletionTokens, turn.CacheReadTokens, turn.CacheWriteTokens = 4, 50, 3000, 1200
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{turn})
	c, _ := newClient(t, "claude-3-5-sonnet-20241022", srv.URL, func(cfg *config.LLM) { cfg.MaxOutputTokens = ptr(1000) })
	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("ls"), Tools: []llm.Tool{bashTool}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.ToolCalls) != 2 || resp.ToolCalls[0].ID != "toolu_01A" || resp.ToolCalls[1].Arguments != `{"command":"pwd"}` {
		t.Fatalf("tool calls = %+v", resp.ToolCalls)
	}
	if resp.Content != "I'll list them." || resp.FinishReason != "tool_calls" {
		t.Fatalf("content %q finish %q", resp.Content, resp.FinishReason)
	}
	// LiteLLM counts cached tokens into prompt_tokens.
	if u := resp.Usage; u.PromptTokens != 4204 || u.CompletionTokens != 50 || u.CacheReadTokens != 3000 || u.CacheWriteTokens != 1200 {
		t.Errorf("usage = %+v", u)
	}
	var mr struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					Index int    `json:"index"`
					ID    string `json:"id"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
		Usage map[string]any `json:"usage"`
	}
	if err := json.Unmarshal(resp.ModelResponse, &mr); err != nil {
		t.Fatal(err)
	}
	// As LiteLLM numbers them: the tool_use blocks' positions in the content (text is 0).
	if tcs := mr.Choices[0].Message.ToolCalls; tcs[0].Index != 1 || tcs[1].Index != 2 {
		t.Errorf("tool call indexes = %+v", tcs)
	}
	if mr.Usage["cache_creation_input_tokens"] != 1200.0 || mr.Usage["cache_read_input_tokens"] != 3000.0 || mr.Usage["prompt_tokens"] != 4204.0 {
		t.Errorf("usage = %v", mr.Usage)
	}
	var body struct {
		MaxTokens int `json:"max_tokens"`
		Tools     []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
	}
	_ = json.Unmarshal(srv.Requests()[0].Body, &body)
	if body.MaxTokens != 1000 || len(body.Tools) != 1 || body.Tools[0].InputSchema["type"] != "object" || body.Tools[0].InputSchema["required"] == nil {
		t.Errorf("request = %+v", body)
	}
}

func TestAnthropicToolResultRoundTripWithCaching(t *testing.T) {
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{
		llmtest.Calls("", llmtest.ToolCall{Name: "execute_bash", Args: `{"command":"ls"}`}, llmtest.ToolCall{Name: "execute_bash", Args: `{"command":"pwd"}`}),
		llmtest.Reply("Done."),
	})
	c, _ := newClient(t, "anthropic/claude-sonnet-4-20250514", srv.URL, nil)
	ctx := context.Background()
	msgs := []llm.Message{
		{Role: llm.RoleSystem, Content: []llm.ContentPart{{Type: "text", Text: "System.", CacheControl: true}}},
		{Role: llm.RoleUser, Content: llm.Text("Look around.")},
	}
	first, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{bashTool}})
	if err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleAssistant, ToolCalls: first.ToolCalls})
	for i, tc := range first.ToolCalls {
		m := llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: llm.Text([]string{"a.txt", "/workspace"}[i])}
		m.Content[0].CacheControl = i == 1
		msgs = append(msgs, m)
	}
	if _, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{bashTool}}); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[1]
	if len(r.Messages) != 4 {
		t.Fatalf("messages = %+v", r.Messages)
	}
	if r.Messages[1].Role != "assistant" || len(r.Messages[1].ToolCalls) != 2 {
		t.Errorf("assistant = %+v", r.Messages[1])
	}
	if r.Messages[2].Role != "tool" || r.Messages[2].ToolCallID != first.ToolCalls[0].ID || r.Messages[2].Text != "a.txt" || r.Messages[2].CacheControl {
		t.Errorf("first result = %+v", r.Messages[2])
	}
	if r.Messages[3].ToolCallID != first.ToolCalls[1].ID || !r.Messages[3].CacheControl {
		t.Errorf("second result = %+v (want cache_control)", r.Messages[3])
	}
	if !strings.Contains(string(r.Body), `"system":[{"text":"System.","cache_control":{"type":"ephemeral"}`) {
		t.Errorf("system param: %s", r.Body)
	}
}

func TestCacheMarksDroppedWhenCachingIsOff(t *testing.T) {
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{llmtest.Reply("ok")})
	c, _ := newClient(t, "anthropic/claude-sonnet-4-20250514", srv.URL, func(cfg *config.LLM) { cfg.CachingPrompt = false })
	msgs := []llm.Message{{Role: llm.RoleUser, Content: []llm.ContentPart{{Type: "text", Text: "hi", CacheControl: true}}}}
	if _, err := c.Complete(context.Background(), llm.Request{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	if body := string(srv.Requests()[0].Body); strings.Contains(body, "cache_control") {
		t.Errorf("cache_control sent with caching off: %s", body)
	}
	if !msgs[0].Content[0].CacheControl {
		t.Errorf("the caller's message was modified")
	}
}

func TestAnthropicErrors(t *testing.T) {
	cases := []struct {
		turn     llmtest.Turn
		want     error
		attempts int
	}{
		{llmtest.Fail(401, "invalid x-api-key"), llm.ErrAuthentication, 1},
		{llmtest.Fail(400, "prompt is too long: 210000 tokens > 200000 maximum"), llm.ErrContextWindow, 1},
		{llmtest.Fail(400, "Your credit balance is too low to access the Anthropic API."), llm.ErrOutOfCredits, 1},
		{llmtest.Fail(529, "Overloaded"), llm.ErrServiceUnavailable, 2},
		{llmtest.Fail(429, "Number of request tokens has exceeded your per-minute rate limit"), llm.ErrRateLimited, 2},
	}
	for _, tc := range cases {
		t.Run(tc.turn.ErrorMessage, func(t *testing.T) {
			srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{tc.turn, tc.turn})
			c, _ := newClient(t, "anthropic/claude-sonnet-4-20250514", srv.URL, func(cfg *config.LLM) { cfg.NumRetries = 2 })
			_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n := len(srv.Requests()); n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
			if !strings.Contains(err.Error(), tc.turn.ErrorMessage) || !strings.Contains(err.Error(), "anthropic/claude-sonnet-4-20250514") || strings.Contains(err.Error(), testKey) {
				t.Errorf("error text = %q", err)
			}
		})
	}
}

func TestPerCallTimeout(t *testing.T) {
	block := make(chan struct{})
	url := newRawOpenAIServer(t, func(map[string]any) (int, string) {
		<-block
		return 500, "{}"
	})
	t.Cleanup(func() { close(block) }) // before the server's Close, which waits for handlers
	c, s := newClient(t, "openai/gpt-4o", url, func(cfg *config.LLM) {
		one := 1
		cfg.Timeout, cfg.NumRetries = &one, 2
	})
	start := time.Now()
	_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, llm.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if len(s.waits()) != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("waits %v after %v: want one retry of a 1 s timeout", s.waits(), time.Since(start))
	}
}

func TestCallerCancellationIsNotRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	url := newRawOpenAIServer(t, func(map[string]any) (int, string) {
		cancel()
		return 500, `{"error":{"message":"boom"}}`
	})
	c, s := newClient(t, "openai/gpt-4o", url, nil)
	_, err := c.Complete(ctx, llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, context.Canceled) || len(s.waits()) > 1 {
		t.Fatalf("err = %v, waits %v", err, s.waits())
	}
}

func ptr[T any](v T) *T { return &v }
