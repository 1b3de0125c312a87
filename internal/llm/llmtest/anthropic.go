package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// NewAnthropicServer starts a server answering POST /v1/messages in the Anthropic wire format; it
// is closed when the test ends.
func NewAnthropicServer(t testing.TB, script []Turn) *Server {
	t.Helper()
	return newServer(t, anthropicFormat{}, script)
}

type anthropicFormat struct{}

func (anthropicFormat) path(p string) bool { return p == "/v1/messages" }

type anRequest struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	System        json.RawMessage `json:"system"`
	Messages      []anMessage     `json:"messages"`
	Tools         []anTool        `json:"tools"`
	StopSequences []string        `json:"stop_sequences"`
}

type anMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type anBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type anTool struct {
	Name string `json:"name"`
}

// anBlocks reads a string or a list of blocks.
func anBlocks(raw json.RawMessage) []anBlock {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []anBlock{{Type: "text", Text: s}}
	}
	var blocks []anBlock
	_ = json.Unmarshal(raw, &blocks)
	return blocks
}

func (anthropicFormat) parse(body []byte) (Request, string) {
	var in anRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return Request{}, "invalid JSON body: " + err.Error()
	}
	req := Request{Model: in.Model, Stop: in.StopSequences}
	for _, t := range in.Tools {
		req.Tools = append(req.Tools, t.Name)
	}
	if len(in.System) > 0 {
		var parts []string
		for _, b := range anBlocks(in.System) {
			parts = append(parts, b.Text)
		}
		req.System = strings.Join(parts, "")
	}
	if in.MaxTokens == nil {
		return req, "max_tokens: Field required"
	}
	if len(in.Messages) == 0 {
		return req, "messages: at least one message is required"
	}
	if in.Messages[0].Role != "user" {
		return req, "messages: first message must use the \"user\" role"
	}
	var openCalls map[string]bool // tool_use ids of the previous assistant turn
	for i, m := range in.Messages {
		if i > 0 && in.Messages[i-1].Role == m.Role {
			return req, fmt.Sprintf("messages.%d: roles must alternate between \"user\" and \"assistant\"", i)
		}
		blocks := anBlocks(m.Content)
		switch m.Role {
		case "assistant":
			if len(openCalls) > 0 {
				return req, fmt.Sprintf("messages.%d: tool_use ids were found without tool_result blocks immediately after", i-1)
			}
			msg := Message{Role: "assistant"}
			openCalls = map[string]bool{}
			for _, b := range blocks {
				switch b.Type {
				case "text":
					if b.Text == "" {
						return req, fmt.Sprintf("messages.%d: text content blocks must be non-empty", i)
					}
					msg.Text += b.Text
				case "tool_use":
					openCalls[b.ID] = true
					msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Args: string(b.Input)})
				}
				msg.CacheControl = msg.CacheControl || len(b.CacheControl) > 0
			}
			req.Messages = append(req.Messages, msg)
		case "user":
			user := Message{Role: "user"}
			hasUser := false
			for _, b := range blocks {
				switch b.Type {
				case "tool_result":
					if !openCalls[b.ToolUseID] {
						return req, fmt.Sprintf("messages.%d: unexpected tool_use_id found in tool_result blocks: %s. Each tool_result block must have a corresponding tool_use block in the previous message", i, b.ToolUseID)
					}
					delete(openCalls, b.ToolUseID)
					tm := Message{Role: "tool", ToolCallID: b.ToolUseID, CacheControl: len(b.CacheControl) > 0}
					if len(b.Content) > 0 {
						for _, inner := range anBlocks(b.Content) {
							tm.Text += inner.Text
							if inner.Type == "image" {
								tm.Images++
							}
							tm.CacheControl = tm.CacheControl || len(inner.CacheControl) > 0
						}
					}
					req.Messages = append(req.Messages, tm)
				case "text":
					if b.Text == "" {
						return req, fmt.Sprintf("messages.%d: text content blocks must be non-empty", i)
					}
					user.Text += b.Text
					hasUser = true
				case "image":
					user.Images++
					hasUser = true
				}
				user.CacheControl = user.CacheControl || (b.Type != "tool_result" && len(b.CacheControl) > 0)
			}
			if len(openCalls) > 0 {
				return req, fmt.Sprintf("messages.%d: tool_use ids were found without tool_result blocks immediately after", i-1)
			}
			openCalls = nil
			if hasUser {
				req.Messages = append(req.Messages, user)
			}
		default:
			return req, fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
	}
	return req, ""
}

func (anthropicFormat) reply(t testing.TB, w http.ResponseWriter, r Request, turn Turn, n int) {
	var content []map[string]any
	if turn.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": turn.Text})
	}
	stop := "end_turn"
	for i, tc := range turn.ToolCalls {
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("toolu_%d_%d", n, i+1)
		}
		input := json.RawMessage(argsOrEmpty(tc.Args))
		var obj map[string]any
		if json.Unmarshal(input, &obj) != nil || obj == nil {
			// Anthropic's tool_use input is always an object; malformed arguments are an
			// OpenAI-only failure.
			t.Errorf("llmtest: turn %d: Anthropic tool_use input must be a JSON object, got %q", n, tc.Args)
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"type": "tool_use", "id": id, "name": tc.Name, "input": input})
		stop = "tool_use"
	}
	if content == nil {
		content = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            fmt.Sprintf("msg_llmtest_%d", n),
		"type":          "message",
		"role":          "assistant",
		"model":         r.Model,
		"content":       content,
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens":                turn.PromptTokens,
			"output_tokens":               turn.CompletionTokens,
			"cache_read_input_tokens":     turn.CacheReadTokens,
			"cache_creation_input_tokens": turn.CacheWriteTokens,
		},
	})
}

func (anthropicFormat) fail(w http.ResponseWriter, status int, code, message string) {
	if code == "" {
		switch status {
		case http.StatusBadRequest:
			code = "invalid_request_error"
		case http.StatusUnauthorized:
			code = "authentication_error"
		case http.StatusForbidden:
			code = "permission_error"
		case http.StatusNotFound:
			code = "not_found_error"
		case http.StatusRequestEntityTooLarge:
			code = "request_too_large"
		case http.StatusTooManyRequests:
			code = "rate_limit_error"
		case 529:
			code = "overloaded_error"
		default:
			code = "api_error"
		}
	}
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": code, "message": message}})
}
