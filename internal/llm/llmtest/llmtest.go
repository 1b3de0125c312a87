// Package llmtest runs scripted fake LLM servers for tests: real HTTP on loopback, speaking the
// OpenAI chat-completions or the Anthropic messages wire format, answering each request with the
// next Turn of a script and recording what it received.
//
//	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
//		llmtest.Call("execute_bash", `{"command": "ls"}`),
//		llmtest.Fail(429, "slow down").WithRetryAfter("1"),
//		llmtest.Reply("Done."),
//	})
//	cfg := config.DefaultLLM()
//	cfg.Model, cfg.BaseURL, cfg.APIKey = "openai/gpt-4o", srv.URL, config.NewSecret("sk-test")
//	… drive the code under test …
//	reqs := srv.Requests() // what the model was sent, normalized across both formats
//
// The servers check what a real provider checks about the conversation (every tool call answered
// by one tool result, results only after their calls, alternating roles and max_tokens for
// Anthropic) and answer 400 as the provider would, without using up a turn. A request after the
// last turn fails the test.
package llmtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Turn is one scripted answer: text, tool calls (with optional text), or an HTTP error.
type Turn struct {
	// Text is the assistant's text.
	Text string
	// ToolCalls are the calls the assistant makes.
	ToolCalls []ToolCall
	// Status, when non-zero, makes the server answer with this HTTP error status instead.
	Status int
	// ErrorMessage is the error's text (default: the status text); ErrorCode is OpenAI's
	// error.code or Anthropic's error.type (default: what the provider uses for the status).
	ErrorMessage, ErrorCode string
	// RetryAfter is sent as the Retry-After header of an error answer ("2", or an HTTP date).
	RetryAfter string
	// Usage reported with a successful answer (zero is reported as zero). For Anthropic,
	// PromptTokens is input_tokens: the prompt tokens not read from or written to the cache.
	PromptTokens, CompletionTokens, CacheReadTokens, CacheWriteTokens int
}

// ToolCall is one scripted call.
type ToolCall struct {
	// ID defaults to call_<turn>_<n> (OpenAI) or toolu_<turn>_<n> (Anthropic).
	ID   string
	Name string
	// Args is the JSON object of arguments ("{}" when empty). The OpenAI server sends it as
	// written, malformed or not; the Anthropic one needs an object.
	Args string
}

// Reply is a text answer.
func Reply(text string) Turn { return Turn{Text: text} }

// Call is an answer calling one tool with JSON arguments.
func Call(name, args string) Turn { return Turn{ToolCalls: []ToolCall{{Name: name, Args: args}}} }

// Calls is an answer calling several tools, with optional text before them.
func Calls(text string, calls ...ToolCall) Turn { return Turn{Text: text, ToolCalls: calls} }

// Fail is an HTTP error answer.
func Fail(status int, message string) Turn { return Turn{Status: status, ErrorMessage: message} }

// WithRetryAfter sets the Retry-After header of an error answer.
func (t Turn) WithRetryAfter(v string) Turn { t.RetryAfter = v; return t }

// WithUsage sets the token counts of a successful answer.
func (t Turn) WithUsage(prompt, completion int) Turn {
	t.PromptTokens, t.CompletionTokens = prompt, completion
	return t
}

// Request is one request the server received, with a provider-neutral view of its conversation.
type Request struct {
	Path   string
	Header http.Header
	// Body is the raw JSON body.
	Body []byte
	// Model is the model name the client sent.
	Model string
	// System is the system prompt (OpenAI: the system messages' text joined by blank lines).
	System string
	// Messages are the non-system messages. Anthropic's tool_result blocks appear as messages of
	// role "tool", in order, followed by a "user" message for any other blocks of that turn.
	Messages []Message
	// Tools are the names of the tools offered.
	Tools []string
	// Stop holds the stop sequences.
	Stop []string
}

// Message is one message of a received conversation.
type Message struct {
	Role       string // "user", "assistant" or "tool"
	Text       string // text parts joined
	ToolCalls  []ToolCall
	ToolCallID string // the call a "tool" message answers
	// CacheControl reports an Anthropic-style cache_control mark on any part.
	CacheControl bool
	// Images counts image parts.
	Images int
}

// APIKey is the key the request carried (Authorization: Bearer, x-api-key or api-key).
func (r Request) APIKey() string {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return v
	}
	if v := r.Header.Get("X-Api-Key"); v != "" {
		return v
	}
	return r.Header.Get("Api-Key")
}

// LastMessage is the final message of the conversation (zero Message if none).
func (r Request) LastMessage() Message {
	if len(r.Messages) == 0 {
		return Message{}
	}
	return r.Messages[len(r.Messages)-1]
}

// Server is a scripted fake provider.
type Server struct {
	// URL is the server's base URL, for base_url.
	URL string

	t      testing.TB
	format format

	// mu guards script, next and reqs.
	mu     sync.Mutex
	script []Turn
	next   int
	reqs   []Request
}

type format interface {
	path(p string) bool
	parse(body []byte) (Request, string) // the request, or why a real provider would refuse it
	reply(t testing.TB, w http.ResponseWriter, r Request, turn Turn, n int)
	fail(w http.ResponseWriter, status int, code, message string)
}

func newServer(t testing.TB, f format, script []Turn) *Server {
	t.Helper()
	s := &Server{t: t, format: f, script: append([]Turn(nil), script...)}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Remaining is the number of turns not yet played.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script) - s.next
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !s.format.path(r.URL.Path) {
		s.format.fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("llmtest: no route %s %s", r.Method, r.URL.Path))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.format.fail(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	req, problem := s.format.parse(body)
	req.Path, req.Header, req.Body = r.URL.Path, r.Header.Clone(), body

	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	count, n := len(s.reqs), s.next
	var turn Turn
	exhausted := n >= len(s.script)
	if !exhausted && problem == "" { // a refused request does not use up a turn
		turn = s.script[n]
		s.next++
	}
	s.mu.Unlock()

	switch {
	case problem != "":
		s.t.Logf("llmtest: request %d refused as a provider would: %s", count, problem)
		s.format.fail(w, http.StatusBadRequest, "invalid_request_error", problem)
	case exhausted:
		s.t.Errorf("llmtest: request %d arrived but the script has only %d turns", n+1, len(s.script))
		s.format.fail(w, http.StatusBadRequest, "invalid_request_error", "llmtest: script exhausted")
	case turn.Status != 0:
		if turn.RetryAfter != "" {
			w.Header().Set("Retry-After", turn.RetryAfter)
		}
		msg := turn.ErrorMessage
		if msg == "" {
			msg = http.StatusText(turn.Status)
		}
		s.format.fail(w, turn.Status, turn.ErrorCode, msg)
	default:
		s.format.reply(s.t, w, req, turn, n+1)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}
