package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// NewOpenAIServer starts a server answering POST /chat/completions (and /v1/chat/completions) in
// the OpenAI wire format; it is closed when the test ends.
func NewOpenAIServer(t testing.TB, script []Turn) *Server {
	t.Helper()
	return newServer(t, openAIFormat{}, script)
}

type openAIFormat struct{}

func (openAIFormat) path(p string) bool {
	return p == "/chat/completions" || p == "/v1/chat/completions"
}

// The request as OpenAI defines it, as far as the fake reads it.
type oaRequest struct {
	Model    string       `json:"model"`
	Messages []oaMessage  `json:"messages"`
	Tools    []oaTool     `json:"tools"`
	Stop     oaStringList `json:"stop"`
}

type oaMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []oaToolCall    `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// oaStringList is a string or a list of strings.
type oaStringList []string

func (l *oaStringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

type oaPart struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// oaContent reads a string or a list of parts.
func oaContent(raw json.RawMessage) (text string, cache bool, images int) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, 0
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, false, 0
	}
	var parts []oaPart
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		switch p.Type {
		case "text":
			b.WriteString(p.Text)
		case "image_url":
			images++
		}
		if len(p.CacheControl) > 0 {
			cache = true
		}
	}
	return b.String(), cache, images
}

func (openAIFormat) parse(body []byte) (Request, string) {
	var in oaRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return Request{}, "invalid JSON body: " + err.Error()
	}
	req := Request{Model: in.Model, Stop: in.Stop}
	for _, t := range in.Tools {
		req.Tools = append(req.Tools, t.Function.Name)
	}
	var system []string
	pending := map[string]bool{} // tool calls still waiting for their result
	for i, m := range in.Messages {
		text, cache, images := oaContent(m.Content)
		if m.Role != "tool" && len(pending) > 0 {
			return req, fmt.Sprintf("messages[%d]: an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'", i)
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, text)
			continue
		case "assistant":
			for _, tc := range m.ToolCalls {
				pending[tc.ID] = true
			}
		case "tool":
			if !pending[m.ToolCallID] {
				return req, fmt.Sprintf("messages[%d]: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (tool_call_id %q)", i, m.ToolCallID)
			}
			delete(pending, m.ToolCallID)
		case "user":
		default:
			return req, fmt.Sprintf("messages[%d]: invalid role %q", i, m.Role)
		}
		msg := Message{Role: m.Role, Text: text, ToolCallID: m.ToolCallID, CacheControl: cache, Images: images}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
		}
		req.Messages = append(req.Messages, msg)
	}
	req.System = strings.Join(system, "\n\n")
	if len(pending) > 0 {
		return req, "an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'"
	}
	if len(in.Messages) == 0 {
		return req, "'messages' must contain at least one message"
	}
	return req, ""
}

func (openAIFormat) reply(_ testing.TB, w http.ResponseWriter, r Request, turn Turn, n int) {
	type fn struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type call struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function fn     `json:"function"`
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if turn.Text != "" || len(turn.ToolCalls) == 0 {
		msg["content"] = turn.Text
	}
	finish := "stop"
	if len(turn.ToolCalls) > 0 {
		var calls []call
		for i, tc := range turn.ToolCalls {
			id := tc.ID
			if id == "" {
				id = fmt.Sprintf("call_%d_%d", n, i+1)
			}
			calls = append(calls, call{ID: id, Type: "function", Function: fn{Name: tc.Name, Arguments: argsOrEmpty(tc.Args)}})
		}
		msg["tool_calls"] = calls
		finish = "tool_calls"
	}
	body := map[string]any{
		"id":                 fmt.Sprintf("chatcmpl-llmtest-%d", n),
		"object":             "chat.completion",
		"created":            time.Now().Unix(),
		"model":              r.Model,
		"system_fingerprint": "fp_llmtest",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage": map[string]any{
			"prompt_tokens":         turn.PromptTokens,
			"completion_tokens":     turn.CompletionTokens,
			"total_tokens":          turn.PromptTokens + turn.CompletionTokens,
			"prompt_tokens_details": map[string]any{"cached_tokens": turn.CacheReadTokens},
		},
	}
	writeJSON(w, http.StatusOK, body)
}

func (openAIFormat) fail(w http.ResponseWriter, status int, code, message string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusTooManyRequests:
		typ = "requests"
		if code == "" {
			code = "rate_limit_exceeded"
		}
	case status == http.StatusUnauthorized && code == "":
		code = "invalid_api_key"
	case status >= 500:
		typ = "server_error"
	}
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": message, "type": typ, "param": nil, "code": c}})
}

func argsOrEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
