package codeact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

func state(h *history) *agent.State {
	return &agent.State{ConversationID: "conv-1", History: h.evs}
}

func TestStepQueuesToolCalls(t *testing.T) {
	resp := response("chatcmpl-1", "Plan.",
		call("c1", "execute_bash", `{"command": "ls", "timeout": 10}`),
		call("c2", "str_replace_editor", `{"command": "view", "path": "/workspace/a"}`),
		call("c3", "finish", `{"message": "done", "task_completed": "true"}`))
	client := &scriptedClient{script: []scripted{{resp: resp}, {resp: response("chatcmpl-2", "again")}}}
	ag := New(client, defaultAgentConfig(), Options{})
	h := &history{t: t}
	h.add(events.NewAction(ag.SystemMessage()), events.SourceAgent)
	h.user("List files")
	ctx := context.Background()

	wantTypes := []string{"run", "read", "finish"}
	for i, want := range wantTypes {
		act, info, err := ag.Step(ctx, state(h))
		if err != nil {
			t.Fatal(err)
		}
		if string(act.ActionType()) != want {
			t.Fatalf("step %d: %s, want %s", i, act.ActionType(), want)
		}
		md := info.ToolCallMetadata
		if md == nil || md.ToolCallID != resp.ToolCalls[i].ID || md.TotalCallsInResponse != 3 {
			t.Errorf("step %d metadata %s", i, mustJSON(t, md))
		}
		if i == 0 && (info.Timeout == nil || *info.Timeout != 10 || !act.(*events.CmdRunAction).Blocking) {
			t.Errorf("timeout %v, blocking %v", info.Timeout, act.(*events.CmdRunAction).Blocking)
		}
	}
	if n := len(client.calls()); n != 1 {
		t.Errorf("%d LLM calls for one response, want 1", n)
	}

	// Reset drops what is queued: the next step asks the model again.
	client.script = []scripted{{resp: response("chatcmpl-3", "", call("d1", "think", `{"thought": "a"}`), call("d2", "think", `{"thought": "b"}`))}}
	if _, _, err := ag.Step(ctx, state(h)); err != nil {
		t.Fatal(err)
	}
	ag.Reset()
	client.script = []scripted{{resp: response("chatcmpl-4", "Hello.")}}
	act, _, err := ag.Step(ctx, state(h))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := act.(*events.MessageAction); !ok || m.Content != "Hello." || !m.WaitForResponse {
		t.Errorf("after Reset: %s", mustJSON(t, act))
	}
}

func TestStepBadCallQueuesNothing(t *testing.T) {
	client := &scriptedClient{script: []scripted{
		{resp: response("r1", "", call("c1", "execute_bash", `{"command": "ls"}`), call("c2", "nonexistent", `{}`))},
		{resp: response("r2", "", call("c3", "execute_bash", `{"command": "ls`))},
	}}
	ag := New(client, defaultAgentConfig(), Options{})
	h := &history{t: t}
	h.user("Task")
	var notExist *agent.FunctionCallNotExistsError
	if _, _, err := ag.Step(context.Background(), state(h)); !errors.As(err, &notExist) {
		t.Fatalf("error %T %v", err, err)
	}
	var bad *agent.MalformedActionError
	if _, _, err := ag.Step(context.Background(), state(h)); !errors.As(err, &bad) {
		t.Fatalf("error %T %v", err, err)
	}
	if len(ag.queue) != 0 {
		t.Errorf("%d actions queued after a bad response", len(ag.queue))
	}
}

func TestStepExit(t *testing.T) {
	client := &scriptedClient{}
	ag := New(client, defaultAgentConfig(), Options{})
	h := &history{t: t}
	h.user("Task")
	h.add(events.NewAction(&events.MessageAction{Content: "Done?", WaitForResponse: true}), events.SourceAgent)
	h.user("  /exit\n")
	act, info, err := ag.Step(context.Background(), state(h))
	if err != nil {
		t.Fatal(err)
	}
	want := &events.AgentFinishAction{Outputs: events.RawJSON("{}")}
	if !reflect.DeepEqual(act, want) || info.ToolCallMetadata != nil {
		t.Errorf("/exit gave %s, %+v", mustJSON(t, act), info)
	}
	if len(client.calls()) != 0 {
		t.Error("/exit called the model")
	}
}

func TestStepRequest(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*config.Agent)
		tools string
	}{
		{"defaults", func(*config.Agent) {}, "execute_bash think finish str_replace_editor"},
		{"condensation request", func(c *config.Agent) { c.EnableCondensationRequest = true },
			"execute_bash think finish request_condensation str_replace_editor"},
		{"no shell, no think", func(c *config.Agent) { c.EnableCmd, c.EnableThink = false, false }, "finish str_replace_editor"},
		{"llm editor falls back", func(c *config.Agent) { c.EnableEditor, c.EnableLLMEditor = false, true },
			"execute_bash think finish str_replace_editor"},
		{"no editor", func(c *config.Agent) { c.EnableEditor = false }, "execute_bash think finish"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAgentConfig()
			tc.edit(&cfg)
			client := &scriptedClient{script: []scripted{{resp: response("r", "hi")}}}
			ag := New(client, cfg, Options{WorkspaceDir: "/home/dev/ws"})
			h := &history{t: t}
			h.user("Task")
			if _, _, err := ag.Step(context.Background(), state(h)); err != nil {
				t.Fatal(err)
			}
			req := client.calls()[0]
			var names []string
			for _, tl := range req.Tools {
				names = append(names, tl.Name)
			}
			if got := strings.Join(names, " "); got != tc.tools {
				t.Errorf("tools %q, want %q", got, tc.tools)
			}
			sys := req.Messages[0]
			if sys.Role != llm.RoleSystem || !strings.Contains(sys.Content[0].Text, "/home/dev/ws") {
				t.Errorf("system message %s", shape(sys))
			}
			if strings.Contains(tc.tools, "execute_bash") != strings.Contains(sys.Content[0].Text, "<SHELL>") {
				t.Error("the prompt's shell section does not follow enable_cmd")
			}
			tags, _ := req.Metadata["tags"].([]string)
			if req.Metadata["session_id"] != "conv-1" || strings.Join(tags, ",") != "agent:CodeActAgent,web_host:unspecified,openhands_version:0.50.0" {
				t.Errorf("metadata %v", req.Metadata)
			}
		})
	}
}

func TestSystemMessage(t *testing.T) {
	ag := New(&scriptedClient{}, defaultAgentConfig(), Options{})
	sm := ag.SystemMessage()
	if sm.Content != ag.prompt || *sm.OpenHandsVersion != "0.50.0" || *sm.AgentClass != "CodeActAgent" {
		t.Errorf("system message %+v", sm)
	}
	if len(sm.Tools) != 4 {
		t.Fatalf("%d tools", len(sm.Tools))
	}
	var first struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal(sm.Tools[0], &first); err != nil {
		t.Fatal(err)
	}
	if first.Type != "function" || first.Function.Name != "execute_bash" || !strings.Contains(first.Function.Description, "&&") {
		t.Errorf("tool %s", sm.Tools[0])
	}
	// The event survives OpenHands' encoding and our decoding.
	ev := events.NewAction(sm)
	ev.ID, ev.Source = 1, events.SourceAgent
	data, err := events.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	back, err := events.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Action.(*events.SystemMessageAction); !reflect.DeepEqual(got, sm) {
		t.Errorf("round trip changed the system event:\n%s", data)
	}
}

// TestToolSchemas pins the wire contract: parameter names, types, enums and required lists as
// OpenHands 0.50 sends them.
func TestToolSchemas(t *testing.T) {
	cfg := defaultAgentConfig()
	cfg.EnableCondensationRequest = true
	want := map[string]string{
		"execute_bash":         `command:string is_input:string[true false] timeout:number | required command`,
		"think":                `thought:string | required thought`,
		"finish":               `message:string task_completed:string[true false partial] | required message task_completed`,
		"request_condensation": `| required`,
		"str_replace_editor": `command:string[view create str_replace insert undo_edit] file_text:string insert_line:integer ` +
			`new_str:string old_str:string path:string view_range:array<integer> | required command path`,
	}
	for _, tl := range toolsFor(cfg) {
		var s struct {
			Type       string `json:"type"`
			Properties map[string]struct {
				Type        string   `json:"type"`
				Description string   `json:"description"`
				Enum        []string `json:"enum"`
				Items       *struct {
					Type string `json:"type"`
				} `json:"items"`
			} `json:"properties"`
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(tl.parameters, &s); err != nil {
			t.Fatalf("%s: %v", tl.name, err)
		}
		if s.Type != "object" || s.Required == nil || tl.description == "" {
			t.Errorf("%s: type %q, required %v", tl.name, s.Type, s.Required)
		}
		var parts []string
		for _, name := range sortedKeys(s.Properties) {
			p := s.Properties[name]
			if p.Description == "" {
				t.Errorf("%s.%s has no description", tl.name, name)
			}
			d := name + ":" + p.Type
			if p.Enum != nil {
				d += "[" + strings.Join(p.Enum, " ") + "]"
			}
			if p.Items != nil {
				d += "<" + p.Items.Type + ">"
			}
			parts = append(parts, d)
		}
		got := strings.TrimSpace(strings.Join(parts, " ") + " | required " + strings.Join(s.Required, " "))
		if got != strings.TrimSpace(want[tl.name]) {
			t.Errorf("%s schema\n got %s\nwant %s", tl.name, got, want[tl.name])
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// drive plays the controller: it steps the agent, stores its actions, answers commands with an
// output of outputLen characters, and stops at finish. It returns the number of steps taken.
func drive(t *testing.T, ag *Agent, h *history, maxSteps, outputLen int) int {
	t.Helper()
	ctx := context.Background()
	for step := 1; step <= maxSteps; step++ {
		act, info, err := ag.Step(ctx, state(h))
		if err != nil {
			t.Fatalf("step %d (%d events): %v", step, len(h.evs), err)
		}
		ev := h.add(events.NewAction(act), events.SourceAgent)
		ev.ToolCallMetadata, ev.Timeout = info.ToolCallMetadata, info.Timeout
		switch a := act.(type) {
		case *events.AgentFinishAction:
			return step
		case *events.CmdRunAction:
			out := a.Command + ": " + strings.Repeat("o", outputLen)
			h.result(ev, runOutput(a.Command, out, 0), out)
		}
	}
	t.Fatalf("no finish after %d steps", maxSteps)
	return 0
}

// busyModel runs `turns` commands, one per response, then finishes. Summarising requests (no
// tools) get a short summary.
func busyModel(turns int) func(llm.Request) (*llm.Response, error) {
	done := 0
	return func(req llm.Request) (*llm.Response, error) {
		if len(req.Tools) == 0 {
			return &llm.Response{Content: "The agent has been running echo commands."}, nil
		}
		done++
		if done > turns {
			return response(fmt.Sprintf("r%d", done), "", call(fmt.Sprintf("f%d", done), "finish", `{"message": "done", "task_completed": "true"}`)), nil
		}
		return response(fmt.Sprintf("r%d", done), "", call(fmt.Sprintf("c%d", done), "execute_bash", fmt.Sprintf(`{"command": "echo %d"}`, done))), nil
	}
}

func countActions[T events.Action](evs []*events.Event) int {
	n := 0
	for _, ev := range evs {
		if _, ok := ev.Action.(T); ok {
			n++
		}
	}
	return n
}

// TestLongConversationCondenses runs 200 command turns against a model whose context holds only
// a fraction of them: every overflow turns into a condensation, and the conversation completes.
func TestLongConversationCondenses(t *testing.T) {
	const limit, outputLen = 40000, 400
	tests := []struct {
		name      string
		condenser config.Condenser
	}{
		{"noop", config.DefaultCondenser(config.CondenserNoop)},
		{"recent", config.Condenser{Type: config.CondenserRecent, KeepFirst: 2, MaxEvents: 400}},
		{"llm", config.Condenser{Type: config.CondenserLLM, KeepFirst: 2, MaxSize: 100, MaxEventLength: 10000}},
		{"default web pipeline", config.Condenser{Type: config.CondenserPipeline, Condensers: []config.Condenser{
			{Type: config.CondenserConversationWindow},
			{Type: config.CondenserBrowserOutputMasking, AttentionWindow: 2},
			{Type: config.CondenserLLM, KeepFirst: 4, MaxSize: 120},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAgentConfig()
			cfg.Condenser = tc.condenser
			client := &scriptedClient{limit: limit, respond: busyModel(200)}
			ag := New(client, cfg, Options{})
			h := &history{t: t}
			h.add(events.NewAction(ag.SystemMessage()), events.SourceAgent)
			h.user("Run echo two hundred times")
			drive(t, ag, h, 1000, outputLen)

			if n := countActions[*events.CmdRunAction](h.evs); n != 200 {
				t.Errorf("%d commands ran, want 200", n)
			}
			if n := countActions[*events.CondensationAction](h.evs); n == 0 {
				t.Error("the history was never condensed")
			}
			var biggest int
			for _, req := range client.calls() {
				if len(req.Tools) > 0 {
					biggest = max(biggest, requestSize(req))
				}
			}
			t.Logf("%d events, %d condensations, %d requests, %d overflowed, largest %d chars",
				len(h.evs), countActions[*events.CondensationAction](h.evs), len(client.calls()),
				countActions[*events.CondensationRequestAction](h.evs), biggest)
			// The task is still in front of the model at the end.
			last := client.calls()[len(client.calls())-1]
			if last.Messages[1].Content[0].Text != "Run echo two hundred times" {
				t.Errorf("the task was condensed away: %s", shape(last.Messages[1]))
			}
		})
	}
}

// TestOverflowAlreadyRequested: the view already holds a request the condenser ignores; the agent
// answers it itself rather than asking again.
func TestOverflowAlreadyRequested(t *testing.T) {
	h := turns(t, 20, 10)
	h.add(events.NewAction(&events.CondensationRequestAction{}), events.SourceAgent)
	ag := New(&scriptedClient{}, defaultAgentConfig(), Options{})
	act, _, err := ag.Step(context.Background(), state(h))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := act.(*events.CondensationAction); !ok {
		t.Errorf("step gave %s, want a condensation", mustJSON(t, act))
	}
}

func TestContextWindowErrors(t *testing.T) {
	// Truncation disabled: the overflow is the controller's error to report.
	cfg := defaultAgentConfig()
	cfg.EnableHistoryTruncation = false
	ag := New(&scriptedClient{limit: 100}, cfg, Options{})
	h := turns(t, 20, 10)
	if _, _, err := ag.Step(context.Background(), state(h)); !errors.Is(err, llm.ErrContextWindow) {
		t.Errorf("error %v, want the context window error", err)
	}

	// Nothing left to forget: the overflow cannot be fixed by condensing.
	ag = New(&scriptedClient{limit: 100}, defaultAgentConfig(), Options{})
	h = &history{t: t}
	h.system("S")
	h.user(strings.Repeat("huge task ", 100))
	if _, _, err := ag.Step(context.Background(), state(h)); !errors.Is(err, llm.ErrContextWindow) {
		t.Errorf("error %v, want the context window error", err)
	}

	// Other LLM errors pass through wrapped.
	ag = New(&scriptedClient{script: []scripted{{err: fmt.Errorf("provider: %w", llm.ErrRateLimited)}}}, defaultAgentConfig(), Options{})
	if _, _, err := ag.Step(context.Background(), state(h)); !errors.Is(err, llm.ErrRateLimited) {
		t.Errorf("error %v", err)
	}
}
