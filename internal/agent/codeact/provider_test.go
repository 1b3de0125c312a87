package codeact

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

// providerClient is the real client for model, talking to a scripted server.
func providerClient(t *testing.T, model, url string) llm.Client {
	t.Helper()
	cfg := config.DefaultLLM()
	cfg.Model, cfg.BaseURL, cfg.APIKey = model, url, config.NewSecret("sk-test")
	c, err := llm.New(cfg, llm.Options{Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// controllerLoop plays the controller against a real provider client: actions are stored,
// commands and views answered, bad tool calls turned into error observations, until finish.
func controllerLoop(t *testing.T, ag *Agent, h *history) {
	t.Helper()
	for step := 0; step < 20; step++ {
		act, info, err := ag.Step(context.Background(), state(h))
		var malformed *agent.MalformedActionError
		var notExist *agent.FunctionCallNotExistsError
		if errors.As(err, &malformed) || errors.As(err, &notExist) {
			h.add(events.NewObservation(&events.ErrorObservation{}, err.Error()), events.SourceAgent)
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		ev := h.add(events.NewAction(act), events.SourceAgent)
		ev.ToolCallMetadata, ev.Timeout = info.ToolCallMetadata, info.Timeout
		switch a := act.(type) {
		case *events.AgentFinishAction:
			return
		case *events.CmdRunAction:
			h.result(ev, runOutput(a.Command, "a.txt b.txt", 0), "a.txt b.txt")
		case *events.FileReadAction:
			h.result(ev, &events.FileReadObservation{Path: a.Path, ImplSource: events.ImplSourceOHACI}, "     1\thello")
		}
	}
	t.Fatal("no finish after 20 steps")
}

// TestThroughOpenAIProvider runs the agent through the real OpenAI-compatible client against a
// scripted server that refuses conversations a real provider would refuse (unanswered tool calls,
// results without calls).
func TestThroughOpenAIProvider(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Calls("Let me look.",
			llmtest.ToolCall{ID: "call_1", Name: "execute_bash", Args: `{"command": "ls", "timeout": 30}`},
			llmtest.ToolCall{ID: "call_2", Name: "str_replace_editor", Args: `{"command": "view", "path": "/workspace/a.txt"}`}),
		llmtest.Call("execute_bash", `{"command": "cat`), // malformed arguments
		llmtest.Turn{Status: 400, ErrorCode: "context_length_exceeded",
			ErrorMessage: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."},
		llmtest.Calls("", llmtest.ToolCall{ID: "call_4", Name: "finish", Args: `{"message": "Two files.", "task_completed": "true"}`}),
	})
	ag := New(providerClient(t, "openai/gpt-4o", srv.URL), defaultAgentConfig(), Options{})
	h := &history{t: t}
	h.add(events.NewAction(ag.SystemMessage()), events.SourceAgent)
	h.user("What is in the workspace?")
	controllerLoop(t, ag, h)

	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	if got := strings.Join(reqs[0].Tools, " "); got != "execute_bash think finish str_replace_editor" {
		t.Errorf("tools %q", got)
	}
	if !strings.Contains(reqs[0].System, "/workspace") {
		t.Errorf("system prompt %q", reqs[0].System)
	}
	second := reqs[1].Messages
	if n := len(second); n != 4 || second[1].Role != "assistant" || len(second[1].ToolCalls) != 2 ||
		second[2].ToolCallID != "call_1" || second[3].ToolCallID != "call_2" {
		t.Errorf("second request: %+v", second)
	}
	if !strings.Contains(second[2].Text, "a.txt b.txt") || !strings.Contains(second[2].Text, "[Exit code: 0]") {
		t.Errorf("command result %q", second[2].Text)
	}
	if last := reqs[2].LastMessage(); last.Role != "user" || !strings.Contains(last.Text, "not a JSON object") {
		t.Errorf("the malformed call was not fed back: %+v", last)
	}
	if n := countActions[*events.CondensationRequestAction](h.evs); n != 1 {
		t.Errorf("%d condensation requests after the overflow, want 1", n)
	}
	if n := countActions[*events.CondensationAction](h.evs); n != 1 {
		t.Errorf("%d condensations after the overflow, want 1", n)
	}
	if len(reqs[3].Messages) >= len(reqs[2].Messages) {
		t.Errorf("the request after condensation is not shorter: %d >= %d messages", len(reqs[3].Messages), len(reqs[2].Messages))
	}
	if reqs[3].Messages[0].Text != "What is in the workspace?" {
		t.Errorf("the task did not survive condensation: %+v", reqs[3].Messages[0])
	}
	// The stored run action is what OpenHands would store.
	for _, ev := range h.evs {
		if run, ok := ev.Action.(*events.CmdRunAction); ok {
			if !run.Blocking || ev.Timeout == nil || *ev.Timeout != 30 || run.Thought != "Let me look." ||
				ev.ToolCallMetadata.ToolCallID != "call_1" || !strings.Contains(string(ev.ToolCallMetadata.ModelResponse), `"call_2"`) {
				t.Errorf("run event %s", mustJSON(t, ev))
			}
		}
	}
}

// TestThroughAnthropicProvider checks the cache marks and tool pairing survive the Anthropic
// format.
func TestThroughAnthropicProvider(t *testing.T) {
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{
		llmtest.Calls("Checking.", llmtest.ToolCall{Name: "execute_bash", Args: `{"command": "ls"}`},
			llmtest.ToolCall{Name: "think", Args: `{"thought": "two files"}`}),
		llmtest.Call("finish", `{"message": "Two files.", "task_completed": "true"}`),
	})
	ag := New(providerClient(t, "anthropic/claude-sonnet-4-20250514", srv.URL), defaultAgentConfig(), Options{})
	h := &history{t: t}
	h.add(events.NewAction(ag.SystemMessage()), events.SourceAgent)
	h.user("What is in the workspace?")
	for step := 0; step < 5; step++ {
		act, info, err := ag.Step(context.Background(), state(h))
		if err != nil {
			t.Fatal(err)
		}
		ev := h.add(events.NewAction(act), events.SourceAgent)
		ev.ToolCallMetadata = info.ToolCallMetadata
		switch act.(type) {
		case *events.AgentFinishAction:
			step = 5
		case *events.CmdRunAction:
			h.result(ev, runOutput("ls", "a b", 0), "a b")
		case *events.AgentThinkAction:
			h.result(ev, &events.AgentThinkObservation{}, "Your thought has been logged.")
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	msgs := reqs[1].Messages
	if len(msgs) < 4 || msgs[len(msgs)-1].Role != "tool" || !msgs[len(msgs)-1].CacheControl {
		t.Errorf("second request: %+v", msgs)
	}
}
