package codeact

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// scriptedClient is the in-test llm.Client: it answers from a script (or a function) and records
// every request. A positive limit makes requests whose text exceeds it fail like a model whose
// context window is full.
type scriptedClient struct {
	mu       sync.Mutex
	script   []scripted
	respond  func(req llm.Request) (*llm.Response, error)
	limit    int
	requests []llm.Request
}

type scripted struct {
	resp *llm.Response
	err  error
}

func (c *scriptedClient) Complete(_ context.Context, req llm.Request) (*llm.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, req)
	if c.limit > 0 && requestSize(req) > c.limit {
		return nil, fmt.Errorf("scripted: %d characters > %d: %w", requestSize(req), c.limit, llm.ErrContextWindow)
	}
	if c.respond != nil {
		return c.respond(req)
	}
	if len(c.script) == 0 {
		return nil, fmt.Errorf("scripted: no response left for request %d", len(c.requests))
	}
	s := c.script[0]
	c.script = c.script[1:]
	return s.resp, s.err
}

func (c *scriptedClient) Model() string         { return "test/scripted" }
func (c *scriptedClient) FunctionCalling() bool { return true }
func (c *scriptedClient) Metrics() *llm.Metrics { return nil }

func (c *scriptedClient) calls() []llm.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]llm.Request(nil), c.requests...)
}

// requestSize counts the characters a request sends.
func requestSize(req llm.Request) int {
	n := 0
	for _, m := range req.Messages {
		for _, p := range m.Content {
			n += len(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	return n
}

// call is a tool call for a scripted response.
func call(id, name, args string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: name, Arguments: args}
}

// response is a scripted LLM response with a LiteLLM-shaped model_response, as providers give.
func response(id, content string, calls ...llm.ToolCall) *llm.Response {
	r := &llm.Response{ID: id, Content: content, ToolCalls: calls, FinishReason: "tool_calls"}
	r.ModelResponse = responseJSON(r, "test/scripted")
	return r
}

// defaultAgentConfig is the [agent] group with OpenHands' defaults.
func defaultAgentConfig() config.Agent { return config.DefaultAgent() }

// history builds a conversation's event list with stream-like ids.
type history struct {
	t   *testing.T
	evs []*events.Event
}

func (h *history) add(ev *events.Event, src events.Source) *events.Event {
	ev.ID = int64(len(h.evs))
	ev.Source = src
	h.evs = append(h.evs, ev)
	return ev
}

func (h *history) system(content string) *events.Event {
	return h.add(events.NewAction(&events.SystemMessageAction{Content: content}), events.SourceAgent)
}

func (h *history) user(content string) *events.Event {
	return h.add(events.NewAction(&events.MessageAction{Content: content}), events.SourceUser)
}

// action adds an agent action produced by call i of resp.
func (h *history) action(a events.Action, resp *llm.Response, i int) *events.Event {
	ev := h.add(events.NewAction(a), events.SourceAgent)
	ev.ToolCallMetadata = metadata(resp, i)
	return ev
}

// result adds the observation answering the action ev, with its tool metadata.
func (h *history) result(ev *events.Event, o events.Observation, content string) *events.Event {
	obs := h.add(events.NewObservation(o, content), ev.Source)
	cause := ev.ID
	obs.Cause = &cause
	obs.ToolCallMetadata = ev.ToolCallMetadata
	return obs
}

func metadata(resp *llm.Response, i int) *events.ToolCallMetadata {
	tc := resp.ToolCalls[i]
	return &events.ToolCallMetadata{FunctionName: tc.Name, ToolCallID: tc.ID,
		ModelResponse: responseJSON(resp, "test/scripted"), TotalCallsInResponse: len(resp.ToolCalls)}
}

func ptr[T any](v T) *T { return &v }

func runOutput(command, output string, exit int) *events.CmdOutputObservation {
	md := events.DefaultCmdOutputMetadata()
	md.ExitCode = exit
	md.WorkingDir = ptr("/workspace")
	md.Suffix = fmt.Sprintf("\n[The command completed with exit code %d.]", exit)
	return &events.CmdOutputObservation{Command: command, Metadata: md}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
