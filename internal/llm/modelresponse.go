package llm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// The LiteLLM ModelResponse dump OpenHands stores in tool_call_metadata.model_response, field order
// as LiteLLM writes it.
type mrResponse struct {
	ID                string     `json:"id"`
	Created           int64      `json:"created"`
	Model             string     `json:"model"`
	Object            string     `json:"object"`
	SystemFingerprint *string    `json:"system_fingerprint"`
	Choices           []mrChoice `json:"choices"`
	Usage             mrUsage    `json:"usage"`
}

type mrChoice struct {
	FinishReason string    `json:"finish_reason"`
	Index        int       `json:"index"`
	Message      mrMessage `json:"message"`
}

type mrMessage struct {
	Content      *string      `json:"content"`
	Role         string       `json:"role"`
	ToolCalls    []mrToolCall `json:"tool_calls"`
	FunctionCall *struct{}    `json:"function_call"`
}

type mrToolCall struct {
	Index    int        `json:"index"`
	Function mrFunction `json:"function"`
	ID       string     `json:"id"`
	Type     string     `json:"type"`
}

type mrFunction struct {
	Arguments string `json:"arguments"`
	Name      string `json:"name"`
}

type mrUsage struct {
	CompletionTokens         int                `json:"completion_tokens"`
	PromptTokens             int                `json:"prompt_tokens"`
	TotalTokens              int                `json:"total_tokens"`
	CompletionTokensDetails  *struct{}          `json:"completion_tokens_details"`
	PromptTokensDetails      mrPromptTokDetails `json:"prompt_tokens_details"`
	CacheCreationInputTokens *int               `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int               `json:"cache_read_input_tokens,omitempty"`
}

type mrPromptTokDetails struct {
	AudioTokens  *int `json:"audio_tokens"`
	CachedTokens int  `json:"cached_tokens"`
}

// modelResponse renders a completion as LiteLLM's ModelResponse JSON.
func modelResponse(c *completion) (json.RawMessage, error) {
	msg := mrMessage{Role: RoleAssistant}
	if c.content != "" {
		content := c.content
		msg.Content = &content
	}
	for i, tc := range c.toolCalls {
		idx := i
		if i < len(c.toolIndexes) {
			idx = c.toolIndexes[i]
		}
		msg.ToolCalls = append(msg.ToolCalls, mrToolCall{Index: idx, ID: tc.ID, Type: "function",
			Function: mrFunction{Arguments: tc.Arguments, Name: tc.Name}})
	}
	r := mrResponse{
		ID:      c.id,
		Created: c.created,
		Model:   c.model,
		Object:  "chat.completion",
		Choices: []mrChoice{{FinishReason: c.finishReason, Index: 0, Message: msg}},
		Usage: mrUsage{
			CompletionTokens:    c.usage.CompletionTokens,
			PromptTokens:        c.usage.PromptTokens,
			TotalTokens:         c.usage.PromptTokens + c.usage.CompletionTokens,
			PromptTokensDetails: mrPromptTokDetails{CachedTokens: c.usage.CacheReadTokens},
		},
	}
	if c.systemFingerprint != "" {
		fp := c.systemFingerprint
		r.SystemFingerprint = &fp
	}
	if c.anthropicUsage {
		w, rd := c.usage.CacheWriteTokens, c.usage.CacheReadTokens
		r.Usage.CacheCreationInputTokens, r.Usage.CacheReadInputTokens = &w, &rd
	}
	return json.Marshal(r)
}

// newResponseID makes a LiteLLM-style id for providers whose answers have none.
func newResponseID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return "chatcmpl-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
