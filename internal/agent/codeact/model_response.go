package codeact

import (
	"encoding/json"
	"strings"

	"github.com/gohands/gohands/internal/llm"
)

// modelResponse is the part of a stored model_response (LiteLLM's ModelResponse dump) the
// agent reads back to rebuild assistant messages: the id and the first choice's message.
type modelResponse struct {
	ID      string `json:"id"`
	Choices []struct {
		Message struct {
			Role      string          `json:"role"`
			Content   json.RawMessage `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Function struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
}

// parseModelResponse reads what it can; a response it cannot read yields an empty one.
func parseModelResponse(raw json.RawMessage) modelResponse {
	var mr modelResponse
	_ = json.Unmarshal(raw, &mr)
	return mr
}

// text is the assistant's text: a string, or the text parts of a list joined.
func (mr modelResponse) text() string {
	if len(mr.Choices) == 0 {
		return ""
	}
	raw := mr.Choices[0].Message.Content
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// toolCalls are the calls of the first choice, in order.
func (mr modelResponse) toolCalls() []llm.ToolCall {
	if len(mr.Choices) == 0 {
		return nil
	}
	var out []llm.ToolCall
	for _, tc := range mr.Choices[0].Message.ToolCalls {
		args := string(tc.Function.Arguments)
		var s string
		if json.Unmarshal(tc.Function.Arguments, &s) == nil {
			args = s
		} else if args == "" || args == "null" {
			args = "{}"
		}
		out = append(out, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	return out
}

// onlyResultless reports whether every call of the response is to a tool that gets no result.
func (mr modelResponse) onlyResultless() bool {
	for _, tc := range mr.toolCalls() {
		if !resultless(tc.Name) {
			return false
		}
	}
	return true
}

// responseJSON is the model_response to store with the actions of resp: the provider's own dump
// when it gave one, else a minimal LiteLLM-shaped object built from resp, so that the assistant
// message can be rebuilt from history either way.
func responseJSON(resp *llm.Response, model string) json.RawMessage {
	if len(resp.ModelResponse) > 0 {
		return resp.ModelResponse
	}
	type function struct {
		Arguments string `json:"arguments"`
		Name      string `json:"name"`
	}
	type toolCall struct {
		Index    int      `json:"index"`
		Function function `json:"function"`
		ID       string   `json:"id"`
		Type     string   `json:"type"`
	}
	type message struct {
		Content   *string    `json:"content"`
		Role      string     `json:"role"`
		ToolCalls []toolCall `json:"tool_calls,omitempty"`
	}
	type choice struct {
		FinishReason string  `json:"finish_reason"`
		Index        int     `json:"index"`
		Message      message `json:"message"`
	}
	type usage struct {
		CompletionTokens int `json:"completion_tokens"`
		PromptTokens     int `json:"prompt_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	m := message{Role: llm.RoleAssistant}
	if resp.Content != "" {
		m.Content = &resp.Content
	}
	for i, tc := range resp.ToolCalls {
		m.ToolCalls = append(m.ToolCalls, toolCall{Index: i, Function: function{tc.Arguments, tc.Name}, ID: tc.ID, Type: "function"})
	}
	out, err := json.Marshal(struct {
		ID      string   `json:"id"`
		Model   string   `json:"model"`
		Object  string   `json:"object"`
		Choices []choice `json:"choices"`
		Usage   usage    `json:"usage"`
	}{
		ID:      resp.ID,
		Model:   model,
		Object:  "chat.completion",
		Choices: []choice{{FinishReason: resp.FinishReason, Index: 0, Message: m}},
		Usage: usage{resp.Usage.CompletionTokens, resp.Usage.PromptTokens,
			resp.Usage.PromptTokens + resp.Usage.CompletionTokens},
	})
	if err != nil {
		return json.RawMessage("{}") // cannot happen: plain strings and ints
	}
	return out
}
