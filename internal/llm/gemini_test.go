package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/llm"
)

// geminiServer answers generateContent with the scripted bodies in order, recording requests.
type geminiServer struct {
	url string
	// mu guards bodies and paths.
	mu     sync.Mutex
	bodies []map[string]any
	paths  []string
	keys   []string
}

type geminiAnswer struct {
	status     int
	body       string
	retryAfter string
}

func newGeminiServer(t *testing.T, answers ...geminiAnswer) *geminiServer {
	t.Helper()
	g := &geminiServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		g.mu.Lock()
		n := len(g.bodies)
		g.bodies, g.paths, g.keys = append(g.bodies, body), append(g.paths, r.URL.Path), append(g.keys, r.Header.Get("X-Goog-Api-Key"))
		g.mu.Unlock()
		if n >= len(answers) {
			t.Errorf("unexpected request %d", n+1)
			w.WriteHeader(400)
			return
		}
		a := answers[n]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

func (g *geminiServer) request(i int) (string, string, map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paths[i], g.keys[i], g.bodies[i]
}

func TestGeminiToolCallRoundTrip(t *testing.T) {
	g := newGeminiServer(t,
		geminiAnswer{status: 429, body: `{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}`, retryAfter: "9"},
		geminiAnswer{status: 200, body: `{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."},{"functionCall":{"name":"execute_bash","args":{"command":"ls"}}}]},"finishReason":"STOP"}],
			"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"thoughtsTokenCount":5,"cachedContentTokenCount":100,"totalTokenCount":155},"modelVersion":"gemini-2.5-pro","responseId":"resp-1"}`},
		geminiAnswer{status: 200, body: `{"candidates":[{"content":{"role":"model","parts":[{"text":"Two files."}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":150,"candidatesTokenCount":3}}`},
	)
	c, s := newClient(t, "gemini/gemini-2.5-pro", g.url, nil)
	tool := llm.Tool{Name: "execute_bash", Description: "Run.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"command":{"type":"string","description":"cmd","default":"ls","format":"uri"},"when":{"type":"string","format":"date-time"},"n":{"type":["integer","null"]}},"required":["command"],"additionalProperties":false}`)}
	ctx := context.Background()
	msgs := conversation("What is here?")
	first, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{tool}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.waits(); len(got) != 1 || got[0] != 9*time.Second {
		t.Errorf("waits = %v, want Retry-After's 9 s", got)
	}
	if first.Content != "Checking." || len(first.ToolCalls) != 1 || first.ToolCalls[0].Name != "execute_bash" || first.ToolCalls[0].Arguments != `{"command":"ls"}` || first.ID != "resp-1" {
		t.Fatalf("first = %+v", first)
	}
	if u := first.Usage; u.PromptTokens != 120 || u.CompletionTokens != 35 || u.CacheReadTokens != 100 {
		t.Errorf("usage = %+v", u)
	}
	path, key, body := g.request(1)
	if path != "/v1beta/models/gemini-2.5-pro:generateContent" || key != testKey {
		t.Errorf("path %q, key sent %v", path, key == testKey)
	}
	if si, _ := json.Marshal(body["systemInstruction"]); !strings.Contains(string(si), "You are a careful engineer.") {
		t.Errorf("systemInstruction = %s", si)
	}
	decl, _ := json.Marshal(body["tools"])
	for _, gone := range []string{`"default"`, `"uri"`, "additionalProperties"} {
		if strings.Contains(string(decl), gone) {
			t.Errorf("tool schema keeps %s: %s", gone, decl)
		}
	}
	if !strings.Contains(string(decl), `"date-time"`) || !strings.Contains(string(decl), `"STRING"`) || !strings.Contains(string(decl), `"nullable":true`) {
		t.Errorf("tool schema = %s", decl)
	}
	if gc, _ := json.Marshal(body["generationConfig"]); !strings.Contains(string(gc), `"thinkingBudget":4096`) || strings.Contains(string(gc), "temperature") {
		t.Errorf("generationConfig = %s (gemini-2.5-pro is a reasoning model: budget, no temperature)", gc)
	}

	call := first.ToolCalls[0]
	msgs = append(msgs,
		llm.Message{Role: llm.RoleAssistant, Content: llm.Text(first.Content), ToolCalls: first.ToolCalls},
		llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: llm.Text("a b")})
	second, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: []llm.Tool{tool}})
	if err != nil || second.Content != "Two files." {
		t.Fatalf("second = %+v, %v", second, err)
	}
	_, _, body = g.request(2)
	contents, _ := json.Marshal(body["contents"])
	for _, want := range []string{`"role":"model"`, `"functionCall":{"args":{"command":"ls"},"name":"execute_bash"}`, `"functionResponse":{"name":"execute_bash","response":{"content":"a b"}}`} {
		if !strings.Contains(string(contents), want) {
			t.Errorf("contents lack %s: %s", want, contents)
		}
	}
}

func TestGeminiErrors(t *testing.T) {
	g := newGeminiServer(t, geminiAnswer{status: 400, body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`})
	c, _ := newClient(t, "gemini/gemini-2.5-flash", g.url, nil)
	_, err := c.Complete(context.Background(), llm.Request{Messages: conversation("hi")})
	if !errors.Is(err, llm.ErrAuthentication) || !strings.Contains(err.Error(), "API key not valid") {
		t.Fatalf("err = %v", err)
	}
}
