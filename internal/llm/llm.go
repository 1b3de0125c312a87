// Package llm is gohands' one door to language models: a Client interface, providers built on the
// official SDKs (OpenAI and every OpenAI-compatible endpoint, Anthropic, Gemini), retries with
// backoff, and metrics (tokens, latency, cost) in OpenHands' llm_metrics shape.
//
// Model names are LiteLLM-style "provider/model" ("anthropic/claude-sonnet-4-20250514",
// "openai/gpt-4o", "ollama/llama3", "openrouter/…"); a bare name picks a provider by its prefix.
//
// New builds a Client from a config group (route.go picks the provider; openai.go, anthropic.go
// and gemini.go convert to each wire format); client.go runs the attempts under retry.go's
// policy and records metrics.go's entries priced from models.go; fncall.go carries tools in the
// prompt for models without native tool calling. Sub-package llmtest has fake servers for tests.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Roles of chat messages.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one chat message in the OpenAI shape, which every provider converts from.
type Message struct {
	Role string `json:"role"`
	// Content holds text and image parts; a plain text message has one text part.
	Content []ContentPart `json:"content"`
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID and Name identify the call a tool message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	Name       string `json:"name,omitempty"`
}

// ContentPart is text or an image (a URL or a data: URL). CacheControl marks a prompt-caching
// breakpoint for providers that have them (Anthropic). Callers may set it freely: the client
// sends it only when caching_prompt is on and the model is one OpenHands caches prompts for.
type ContentPart struct {
	Type         string `json:"type"` // "text" or "image_url"
	Text         string `json:"text,omitempty"`
	ImageURL     string `json:"image_url,omitempty"`
	CacheControl bool   `json:"cache_control,omitempty"`
}

// Text returns a one-part text content.
func Text(s string) []ContentPart { return []ContentPart{{Type: "text", Text: s}} }

// ToolCall is a function call the model made.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"` // JSON text, as the model wrote it
}

// Tool is a function the model may call; Parameters is its JSON Schema.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Request is one chat completion.
type Request struct {
	Messages []Message
	Tools    []Tool
	// Stop sequences, and a per-request override of the configured temperature (nil: config).
	Stop        []string
	Temperature *float64
	// Metadata is passed where the provider accepts it (OpenHands sends session_id and tags).
	Metadata map[string]any
}

// Response is a completed chat turn.
type Response struct {
	ID           string
	Content      string     // the assistant's text (text parts joined)
	ToolCalls    []ToolCall // empty when the model answered in text
	FinishReason string
	Usage        Usage
	// ModelResponse is the whole response in LiteLLM's ModelResponse JSON shape (id, created, model,
	// object, choices[{finish_reason, index, message{content, role, tool_calls}}], usage): OpenHands
	// stores it in every tool_call_metadata.model_response.
	ModelResponse json.RawMessage
	// Cost is the call's price in USD (0 when the model's price is unknown); Latency is how long
	// the successful attempt took.
	Cost    float64
	Latency time.Duration
}

// Usage counts the tokens of one call.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	CacheReadTokens  int
	CacheWriteTokens int
}

// Client is a configured model.
type Client interface {
	// Complete runs one chat completion, retrying what is worth retrying (429, 5xx, timeouts).
	Complete(ctx context.Context, req Request) (*Response, error)
	// Model is the configured model name ("anthropic/claude-…").
	Model() string
	// FunctionCalling reports whether tools are sent natively (else they are described in the
	// prompt and calls parsed back from the text; callers need not care).
	FunctionCalling() bool
	// Metrics are the accumulated metrics of every call made through this client.
	Metrics() *Metrics
}

// Errors callers branch on. Provider errors wrap one of them.
var (
	ErrAuthentication     = errors.New("the LLM provider rejected the API key")
	ErrPermission         = errors.New("the LLM provider refused access to the model")
	ErrRateLimited        = errors.New("the LLM provider is rate limiting")
	ErrContextWindow      = errors.New("the conversation is longer than the model's context window")
	ErrBadRequest         = errors.New("the LLM provider rejected the request")
	ErrServiceUnavailable = errors.New("the LLM provider is unavailable")
	ErrContentPolicy      = errors.New("the LLM provider refused the content")
	ErrOutOfCredits       = errors.New("the LLM account is out of credits")
	ErrNoResponse         = errors.New("the LLM returned an empty response")
	ErrTimeout            = errors.New("the LLM provider did not answer in time")
)
