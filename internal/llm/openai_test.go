package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

const testKey = "sk-test-secret-key-1234567890"

// sleeps records the waits a client asks for instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newClient builds a client for model against a fake server, recording its waits.
func newClient(t *testing.T, model, baseURL string, edit func(*config.LLM)) (llm.Client, *sleeps) {
	t.Helper()
	cfg := config.DefaultLLM()
	cfg.Model, cfg.BaseURL, cfg.APIKey = model, baseURL, config.NewSecret(testKey)
	if edit != nil {
		edit(&cfg)
	}
	s := &sleeps{}
	c, err := llm.New(cfg, llm.Options{Sleep: s.sleep})
	if err != nil {
		t.Fatalf("New(%s): %v", model, err)
	}
	return c, s
}

var bashTool = llm.Tool{
	Name:        "execute_bash",
	Description: "Run a bash command.",
	Parameters: json.RawMessage(`{"type":"object","properties":{
		"command":{"type":"string","description":"The command."},
		"timeout":{"type":"number","description":"Seconds."},
		"is_input":{"type":"string","enum":["true","false"],"description":"Input to a running process."}},
		"required":["command"]}`),
}

func conversation(user string) []llm.Message {
	return []llm.Message{
		{Role: llm.RoleSystem, Content: llm.Text("You are a careful engineer.")},
		{Role: llm.RoleUser, Content: llm.Text(user)},
	}
}

func TestOpenAITextAnswer(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Reply("Hello there.").WithUsage(12, 3)})
	c, _ := newClient(t, "openai/gpt-4o", srv.URL, nil)

	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("Say hello.")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "Hello there." || len(resp.ToolCalls) != 0 || resp.FinishReason != "stop" {
		t.Fatalf("response = %+v", resp)
	}
	if resp.Usage.PromptTokens != 12 || resp.Usage.CompletionTokens != 3 {
		t.Fatalf("usage = %+v", resp.Usage)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "gpt-4o" {
		t.Errorf("model sent = %q, want the name without its provider prefix", r.Model)
	}
	if r.APIKey() != testKey {
		t.Errorf("the request carried no API key")
	}
	if r.System != "You are a careful engineer." || r.LastMessage().Text != "Say hello." {
		t.Errorf("conversation sent = %q / %+v", r.System, r.Messages)
	}
	if strings.Contains(string(resp.ModelResponse), testKey) {
		t.Errorf("the key leaked into model_response")
	}
}

func TestOpenAIToolCallAndModelResponse(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Calls("Let me look.", llmtest.ToolCall{ID: "call_abc", Name: "execute_bash", Args: `{"command": "ls -la"}`}).WithUsage(100, 20),
	})
	c, _ := newClient(t, "openai/gpt-4o", srv.URL, nil)

	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("List files."), Tools: []llm.Tool{bashTool}})
	if err != nil {
		t.Fatal(err)
	}
	want := llm.ToolCall{ID: "call_abc", Name: "execute_bash", Arguments: `{"command": "ls -la"}`}
	if len(resp.ToolCalls) != 1 || resp.ToolCalls[0] != want {
		t.Fatalf("tool calls = %+v, want %+v", resp.ToolCalls, want)
	}
	if resp.Content != "Let me look." || resp.FinishReason != "tool_calls" {
		t.Fatalf("content %q finish %q", resp.Content, resp.FinishReason)
	}
	if got := srv.Requests()[0].Tools; len(got) != 1 || got[0] != "execute_bash" {
		t.Errorf("tools sent = %v", got)
	}

	// The ModelResponse is LiteLLM's dump: keys in LiteLLM's order, function_call null.
	var mr struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Object  string `json:"object"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Index        int    `json:"index"`
			Message      struct {
				Content   *string `json:"content"`
				Role      string  `json:"role"`
				ToolCalls []struct {
					Index    int `json:"index"`
					Function struct {
						Arguments string `json:"arguments"`
						Name      string `json:"name"`
					} `json:"function"`
					ID   string `json:"id"`
					Type string `json:"type"`
				} `json:"tool_calls"`
				FunctionCall json.RawMessage `json:"function_call"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
			PromptTokens     int `json:"prompt_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(resp.ModelResponse, &mr); err != nil {
		t.Fatalf("model_response: %v\n%s", err, resp.ModelResponse)
	}
	if mr.ID != resp.ID || mr.ID != "chatcmpl-llmtest-1" || mr.Object != "chat.completion" || mr.Created == 0 || mr.Model != "gpt-4o" {
		t.Errorf("model_response header = %+v", mr)
	}
	ch := mr.Choices[0]
	if ch.FinishReason != "tool_calls" || ch.Index != 0 || ch.Message.Role != "assistant" || ch.Message.Content == nil || *ch.Message.Content != "Let me look." {
		t.Errorf("choice = %+v", ch)
	}
	if string(ch.Message.FunctionCall) != "null" {
		t.Errorf("function_call = %s, want null", ch.Message.FunctionCall)
	}
	tc := ch.Message.ToolCalls[0]
	if tc.ID != "call_abc" || tc.Type != "function" || tc.Function.Name != "execute_bash" || tc.Function.Arguments != `{"command": "ls -la"}` || tc.Index != 0 {
		t.Errorf("tool call = %+v", tc)
	}
	if mr.Usage.PromptTokens != 100 || mr.Usage.CompletionTokens != 20 || mr.Usage.TotalTokens != 120 {
		t.Errorf("usage = %+v", mr.Usage)
	}
	for _, key := range []string{`"id"`, `"created"`, `"model"`, `"object"`, `"system_fingerprint"`, `"choices"`, `"usage"`} {
		if !strings.Contains(string(resp.ModelResponse), key) {
			t.Errorf("model_response lacks %s", key)
		}
	}
}

func TestOpenAIToolResultRoundTrip(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "ls"}`),
		llmtest.Reply("There are two files."),
	})
	c, _ := newClient(t, "openai/gpt-4o", srv.URL, nil)
	ctx := context.Background()
	msgs := conversation("What is here?")
	first, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{bashTool}})
	if err != nil {
		t.Fatal(err)
	}
	call := first.ToolCalls[0]
	msgs = append(msgs,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: first.ToolCalls},
		llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: llm.Text("a.txt\nb.txt")},
	)
	second, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{bashTool}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Content != "There are two files." {
		t.Fatalf("content = %q", second.Content)
	}
	r := srv.Requests()[1]
	if len(r.Messages) != 3 {
		t.Fatalf("messages = %+v", r.Messages)
	}
	asst, tool := r.Messages[1], r.Messages[2]
	if asst.Role != "assistant" || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].ID != call.ID || asst.ToolCalls[0].Args != `{"command": "ls"}` {
		t.Errorf("assistant message = %+v", asst)
	}
	if tool.Role != "tool" || tool.ToolCallID != call.ID || tool.Text != "a.txt\nb.txt" {
		t.Errorf("tool message = %+v", tool)
	}
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if body.Messages[3]["name"] != "execute_bash" {
		t.Errorf("tool message lacks its name: %v", body.Messages[3])
	}
}

func TestOpenAIAuthenticationError(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Fail(401, "Incorrect API key provided: "+testKey+". You can find your API key at https://platform.openai.com."),
	})
	c, s := newClient(t, "openai/gpt-4o", srv.URL, nil)
	_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, llm.ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	msg := err.Error()
	t.Logf("error text: %s", msg)
	if !strings.Contains(msg, "rejected the API key for model openai/gpt-4o") || !strings.Contains(msg, "Incorrect API key provided") {
		t.Errorf("error text = %q", msg)
	}
	if strings.Contains(msg, testKey) {
		t.Errorf("error text holds the key: %q", msg)
	}
	if n := len(srv.Requests()); n != 1 || len(s.waits()) != 0 {
		t.Errorf("%d requests and waits %v: 401 is not retried", n, s.waits())
	}
	var pe *llm.ProviderError
	if !errors.As(err, &pe) || pe.StatusCode != 401 || pe.Code != "invalid_api_key" {
		t.Errorf("provider error = %+v", pe)
	}
}

func TestRateLimitRetriedWithBackoff(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Fail(429, "Rate limit reached"),
		llmtest.Fail(429, "Rate limit reached"),
		llmtest.Reply("finally"),
	})
	c, s := newClient(t, "openai/gpt-4o", srv.URL, nil)
	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "finally" || len(srv.Requests()) != 3 {
		t.Fatalf("content %q after %d requests", resp.Content, len(srv.Requests()))
	}
	// Defaults: multiplier 2, min 5 s, max 30 s: 2×2^0=2→5, 2×2^1=4→5.
	want := []time.Duration{5 * time.Second, 5 * time.Second}
	if got := s.waits(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Fail(429, "slow down").WithRetryAfter("12"),
		llmtest.Fail(429, "slow down").WithRetryAfter("600"),
		llmtest.Fail(503, "overloaded").WithRetryAfter("1"),
		llmtest.Reply("ok"),
	})
	c, s := newClient(t, "openai/gpt-4o", srv.URL, func(cfg *config.LLM) { cfg.NumRetries = 5 })
	if _, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")}); err != nil {
		t.Fatal(err)
	}
	// 12 s beats the 5 s backoff; 600 s is capped at max_wait; 1 s is shorter than the 8 s backoff.
	want := []time.Duration{12 * time.Second, 30 * time.Second, 8 * time.Second}
	if got := s.waits(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestServerErrorsExhaustAttempts(t *testing.T) {
	var script []llmtest.Turn
	for range 6 {
		script = append(script, llmtest.Fail(500, "internal error"))
	}
	srv := llmtest.NewOpenAIServer(t, script)
	c, s := newClient(t, "openai/gpt-4o", srv.URL, func(cfg *config.LLM) {
		cfg.NumRetries, cfg.RetryMinWait, cfg.RetryMaxWait, cfg.RetryMultiplier = 4, 1, 10, 1
	})
	_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, llm.ErrServiceUnavailable) {
		t.Fatalf("err = %v, want ErrServiceUnavailable", err)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d attempts, want num_retries = 4", n)
	}
	// multiplier 1: 1, 2, 4 seconds between the four attempts.
	if got, want := s.waits(), []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	if !strings.Contains(err.Error(), "after 4 attempts") || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("error text = %q", err)
	}
}

func TestRateLimitExhausted(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Fail(429, "slow"), llmtest.Fail(429, "slow")})
	c, _ := newClient(t, "openai/gpt-4o", srv.URL, func(cfg *config.LLM) { cfg.NumRetries = 2 })
	_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, llm.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	cases := []struct {
		status int
		code   string
		msg    string
		want   error
	}{
		{400, "", "Invalid value for 'temperature'", llm.ErrBadRequest},
		{403, "", "You are not allowed to use this model", llm.ErrPermission},
		{404, "model_not_found", "The model does not exist", llm.ErrBadRequest},
		{402, "", "Payment required", llm.ErrOutOfCredits},
		{429, "insufficient_quota", "You exceeded your current quota", llm.ErrOutOfCredits},
		{400, "context_length_exceeded", "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", llm.ErrContextWindow},
		{400, "content_policy_violation", "Your request was rejected by the safety system", llm.ErrContentPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.msg, func(t *testing.T) {
			srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{{Status: tc.status, ErrorCode: tc.code, ErrorMessage: tc.msg}})
			c, s := newClient(t, "openai/gpt-4o", srv.URL, nil)
			_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(srv.Requests()) != 1 || len(s.waits()) != 0 {
				t.Errorf("retried: %d requests", len(srv.Requests()))
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "openai/gpt-4o") {
				t.Errorf("error text = %q", err)
			}
		})
	}
}

func TestEmptyResponseRetriedWarmer(t *testing.T) {
	// A provider answering without choices is retried, at temperature 1 (OpenHands' rule).
	calls := 0
	srv := newRawOpenAIServer(t, func(body map[string]any) (int, string) {
		calls++
		if calls == 1 {
			if body["temperature"] != 0.0 {
				t.Errorf("first temperature = %v", body["temperature"])
			}
			return 200, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`
		}
		if body["temperature"] != 1.0 {
			t.Errorf("retry temperature = %v, want 1", body["temperature"])
		}
		return 200, `{"id":"y","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	})
	c, s := newClient(t, "openai/gpt-4o", srv, nil)
	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if err != nil || resp.Content != "hi" || len(s.waits()) != 1 {
		t.Fatalf("resp %+v err %v waits %v", resp, err, s.waits())
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
