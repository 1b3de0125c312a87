package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	return resp.StatusCode, out
}

// The fakes refuse conversations a real provider refuses, without using up a turn.
func TestServersRefuseBrokenConversations(t *testing.T) {
	cases := []struct {
		name, body, want string
		anthropic        bool
	}{
		{name: "openai result without call", body: `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c1","content":"r"}]}`, want: "must be a response to a preceeding message"},
		{name: "openai call without result", body: `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"y"}]}`, want: "must be followed by tool messages"},
		{name: "anthropic without max_tokens", anthropic: true, body: `{"model":"m","messages":[{"role":"user","content":"x"}]}`, want: "max_tokens"},
		{name: "anthropic result without call", anthropic: true, body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}`, want: "unexpected tool_use_id"},
		{name: "anthropic call without result", anthropic: true, body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":"y"}]}`, want: "without tool_result"},
		{name: "anthropic roles must alternate", anthropic: true, body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}`, want: "alternate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *Server
			path := "/chat/completions"
			if tc.anthropic {
				srv, path = NewAnthropicServer(t, []Turn{Reply("unused")}), "/v1/messages"
			} else {
				srv = NewOpenAIServer(t, []Turn{Reply("unused")})
			}
			status, body := post(t, srv.URL+path, tc.body)
			b, _ := json.Marshal(body)
			if status != 400 || !strings.Contains(string(b), tc.want) {
				t.Errorf("status %d body %s, want 400 with %q", status, b, tc.want)
			}
			if srv.Remaining() != 1 || len(srv.Requests()) != 1 {
				t.Errorf("remaining %d, requests %d", srv.Remaining(), len(srv.Requests()))
			}
		})
	}
}

func TestServerNormalizesConversations(t *testing.T) {
	srv := NewAnthropicServer(t, []Turn{Reply("ok")})
	status, _ := post(t, srv.URL+"/v1/messages", `{"model":"claude","max_tokens":9,"system":[{"type":"text","text":"sys"}],"tools":[{"name":"f","input_schema":{"type":"object"}}],
		"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"text","text":"calling"},{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"res"}],"cache_control":{"type":"ephemeral"}},{"type":"text","text":"more"}]}]}`)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	r := srv.Requests()[0]
	if r.System != "sys" || r.Model != "claude" || len(r.Tools) != 1 || len(r.Messages) != 4 {
		t.Fatalf("request = %+v", r)
	}
	if m := r.Messages[1]; m.Text != "calling" || len(m.ToolCalls) != 1 || m.ToolCalls[0].Args != `{"a":1}` {
		t.Errorf("assistant = %+v", m)
	}
	if m := r.Messages[2]; m.Role != "tool" || m.ToolCallID != "t1" || m.Text != "res" || !m.CacheControl {
		t.Errorf("tool = %+v", m)
	}
	if m := r.LastMessage(); m.Role != "user" || m.Text != "more" {
		t.Errorf("last = %+v", m)
	}
}
