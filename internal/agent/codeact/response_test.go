package codeact

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

func TestToolCallMapping(t *testing.T) {
	cfg := defaultAgentConfig()
	cfg.EnableCondensationRequest = true
	tools := toolsFor(cfg)
	edit := func(e events.FileEditAction) *events.FileEditAction {
		e.Start, e.End, e.ImplSource = 1, -1, events.ImplSourceOHACI
		return &e
	}
	run := func(r events.CmdRunAction) *events.CmdRunAction {
		r.ConfirmationState = events.ConfirmationConfirmed
		return &r
	}
	tests := []struct {
		name, tool, args, content string
		want                      events.Action
		timeout                   *float64
	}{
		{name: "bash", tool: "execute_bash", args: `{"command": "ls -la"}`, content: "Look around.",
			want: run(events.CmdRunAction{Command: "ls -la", Thought: "Look around."})},
		{name: "bash timeout", tool: "execute_bash", args: `{"command": "pytest -q", "timeout": 300}`,
			want: run(events.CmdRunAction{Command: "pytest -q", Blocking: true}), timeout: ptr(300.0)},
		{name: "bash timeout as string", tool: "execute_bash", args: `{"command": "make", "timeout": "45.5"}`,
			want: run(events.CmdRunAction{Command: "make", Blocking: true}), timeout: ptr(45.5)},
		{name: "bash null timeout", tool: "execute_bash", args: `{"command": "make", "timeout": null}`,
			want: run(events.CmdRunAction{Command: "make"})},
		{name: "bash is_input true", tool: "execute_bash", args: `{"command": "y", "is_input": "true"}`,
			want: run(events.CmdRunAction{Command: "y", IsInput: true})},
		{name: "bash is_input false", tool: "execute_bash", args: `{"command": "y", "is_input": "false"}`,
			want: run(events.CmdRunAction{Command: "y"})},
		{name: "bash is_input JSON true", tool: "execute_bash", args: `{"command": "C-c", "is_input": true}`,
			want: run(events.CmdRunAction{Command: "C-c", IsInput: true})},
		{name: "bash empty command polls", tool: "execute_bash", args: `{"command": ""}`,
			want: run(events.CmdRunAction{Command: ""})},
		{name: "bash unknown key ignored", tool: "execute_bash", args: `{"command": "ls", "security_risk": "LOW"}`,
			want: run(events.CmdRunAction{Command: "ls"})},
		{name: "view", tool: "str_replace_editor", args: `{"command": "view", "path": "/workspace/app.py"}`,
			want: &events.FileReadAction{Path: "/workspace/app.py", End: -1, ImplSource: events.ImplSourceOHACI}},
		{name: "view range", tool: "str_replace_editor", args: `{"command": "view", "path": "/workspace/app.py", "view_range": [1, 40]}`,
			content: "Read the top.",
			want: &events.FileReadAction{Path: "/workspace/app.py", End: -1, ImplSource: events.ImplSourceOHACI,
				ViewRange: []int{1, 40}, Thought: "Read the top."}},
		{name: "view range to end", tool: "str_replace_editor", args: `{"command": "view", "path": "/a", "view_range": [10, -1]}`,
			want: &events.FileReadAction{Path: "/a", End: -1, ImplSource: events.ImplSourceOHACI, ViewRange: []int{10, -1}}},
		{name: "create", tool: "str_replace_editor", args: `{"command": "create", "path": "/workspace/a.txt", "file_text": "hi\n"}`,
			want: edit(events.FileEditAction{Path: "/workspace/a.txt", Command: "create", FileText: ptr("hi\n")})},
		{name: "str_replace", tool: "str_replace_editor",
			args: `{"command": "str_replace", "path": "/workspace/README.md", "old_str": "# Title", "new_str": "# Project"}`,
			want: edit(events.FileEditAction{Path: "/workspace/README.md", Command: "str_replace", OldStr: ptr("# Title"), NewStr: ptr("# Project")})},
		{name: "str_replace drops view_range", tool: "str_replace_editor",
			args: `{"command": "str_replace", "path": "/a", "old_str": "x", "view_range": [1, 2]}`,
			want: edit(events.FileEditAction{Path: "/a", Command: "str_replace", OldStr: ptr("x")})},
		{name: "insert", tool: "str_replace_editor", args: `{"command": "insert", "path": "/a", "insert_line": 3, "new_str": "x = 1"}`,
			want: edit(events.FileEditAction{Path: "/a", Command: "insert", InsertLine: ptr(3), NewStr: ptr("x = 1")})},
		{name: "insert line as string", tool: "str_replace_editor", args: `{"command": "insert", "path": "/a", "insert_line": "0", "new_str": "x"}`,
			want: edit(events.FileEditAction{Path: "/a", Command: "insert", InsertLine: ptr(0), NewStr: ptr("x")})},
		{name: "undo", tool: "str_replace_editor", args: `{"command": "undo_edit", "path": "/a"}`,
			want: edit(events.FileEditAction{Path: "/a", Command: "undo_edit"})},
		{name: "think", tool: "think", args: `{"thought": "Two options."}`, content: "Hmm.",
			want: &events.AgentThinkAction{Thought: "Hmm.\nTwo options."}},
		{name: "finish", tool: "finish", args: `{"message": "README added.", "task_completed": "true"}`, content: "All set.",
			want: &events.AgentFinishAction{FinalThought: "README added.", TaskCompleted: ptr("true"),
				Outputs: events.RawJSON("{}"), Thought: "All set."}},
		{name: "finish partial", tool: "finish", args: `{"message": "Half.", "task_completed": "partial"}`,
			want: &events.AgentFinishAction{FinalThought: "Half.", TaskCompleted: ptr("partial"), Outputs: events.RawJSON("{}")}},
		{name: "finish completed as bool", tool: "finish", args: `{"message": "ok", "task_completed": true}`,
			want: &events.AgentFinishAction{FinalThought: "ok", TaskCompleted: ptr("true"), Outputs: events.RawJSON("{}")}},
		{name: "request condensation", tool: "request_condensation", args: `{}`, content: "Too long.",
			want: &events.CondensationRequestAction{}},
		{name: "request condensation empty arguments", tool: "request_condensation", args: ``,
			want: &events.CondensationRequestAction{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := response("chatcmpl-1", tc.content, call("call_1", tc.tool, tc.args))
			steps, err := responseToActions(resp, tools, "test/scripted")
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if len(steps) != 1 {
				t.Fatalf("%d actions, want 1", len(steps))
			}
			if !reflect.DeepEqual(steps[0].action, tc.want) {
				t.Errorf("action\n got %s\nwant %s", mustJSON(t, steps[0].action), mustJSON(t, tc.want))
			}
			info := steps[0].info
			if !reflect.DeepEqual(info.Timeout, tc.timeout) {
				t.Errorf("timeout = %v, want %v", deref(info.Timeout), deref(tc.timeout))
			}
			md := info.ToolCallMetadata
			if md == nil || md.FunctionName != tc.tool || md.ToolCallID != "call_1" || md.TotalCallsInResponse != 1 ||
				!bytes.Equal(md.ModelResponse, resp.ModelResponse) {
				t.Errorf("tool_call_metadata = %s", mustJSON(t, md))
			}
		})
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestToolCallErrors(t *testing.T) {
	tools := toolsFor(defaultAgentConfig())
	tests := []struct {
		name, tool, args string
		notExist         bool
		mention          string
	}{
		{name: "bad JSON", tool: "execute_bash", args: `{"command": "ls"`, mention: "not a JSON object"},
		{name: "JSON array", tool: "execute_bash", args: `["ls"]`, mention: "not a JSON object"},
		{name: "missing command", tool: "execute_bash", args: `{"timeout": 5}`, mention: `"command"`},
		{name: "command not a string", tool: "execute_bash", args: `{"command": 12}`, mention: `"command"`},
		{name: "timeout not a number", tool: "execute_bash", args: `{"command": "ls", "timeout": "soon"}`, mention: `"timeout"`},
		{name: "editor missing path", tool: "str_replace_editor", args: `{"command": "view"}`, mention: `"path"`},
		{name: "editor missing command", tool: "str_replace_editor", args: `{"path": "/a"}`, mention: `"command"`},
		{name: "editor unknown key", tool: "str_replace_editor", args: `{"command": "create", "path": "/a", "content": "x"}`, mention: `"content"`},
		{name: "editor unknown key on view", tool: "str_replace_editor", args: `{"command": "view", "path": "/a", "lines": 3}`, mention: `"lines"`},
		{name: "editor unknown command", tool: "str_replace_editor", args: `{"command": "delete", "path": "/a"}`, mention: "delete"},
		{name: "editor insert_line not an integer", tool: "str_replace_editor", args: `{"command": "insert", "path": "/a", "insert_line": 1.5, "new_str": "x"}`, mention: `"insert_line"`},
		{name: "editor view_range not integers", tool: "str_replace_editor", args: `{"command": "view", "path": "/a", "view_range": "1-3"}`, mention: `"view_range"`},
		{name: "think missing thought", tool: "think", args: `{}`, mention: `"thought"`},
		{name: "finish missing message", tool: "finish", args: `{"task_completed": "true"}`, mention: `"message"`},
		{name: "finish missing task_completed", tool: "finish", args: `{"message": "done"}`, mention: `"task_completed"`},
		{name: "unknown tool", tool: "browser", args: `{"code": "goto('x')"}`, notExist: true, mention: "browser"},
		{name: "tool not enabled", tool: "request_condensation", args: `{}`, notExist: true, mention: "execute_bash, think, finish, str_replace_editor"},
		{name: "ipython not offered", tool: "execute_ipython_cell", args: `{"code": "1"}`, notExist: true, mention: "execute_ipython_cell"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := responseToActions(response("r", "", call("c", tc.tool, tc.args)), tools, "m")
			var malformedErr *agent.MalformedActionError
			var notExist *agent.FunctionCallNotExistsError
			switch {
			case tc.notExist && !errors.As(err, &notExist):
				t.Fatalf("error = %T %v, want *FunctionCallNotExistsError", err, err)
			case !tc.notExist && !errors.As(err, &malformedErr):
				t.Fatalf("error = %T %v, want *MalformedActionError", err, err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %s", err, tc.mention)
			}
		})
	}
}

func TestResponseWithoutToolCalls(t *testing.T) {
	for _, content := range []string{"1 + 1 equals 2.", ""} {
		steps, err := responseToActions(&llm.Response{ID: "r", Content: content}, toolsFor(defaultAgentConfig()), "m")
		if err != nil {
			t.Fatal(err)
		}
		want := &events.MessageAction{Content: content, WaitForResponse: true}
		if len(steps) != 1 || !reflect.DeepEqual(steps[0].action, want) || steps[0].info.ToolCallMetadata != nil {
			t.Errorf("steps = %s", mustJSON(t, steps[0].action))
		}
	}
}

func TestSeveralCallsThoughtOnFirstOnly(t *testing.T) {
	resp := response("chatcmpl-7", "Run the tests, then look.",
		call("c1", "execute_bash", `{"command": "pytest -q"}`),
		call("c2", "str_replace_editor", `{"command": "view", "path": "/workspace/a.py"}`),
		call("c3", "think", `{"thought": "compare"}`))
	steps, err := responseToActions(resp, toolsFor(defaultAgentConfig()), "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 {
		t.Fatalf("%d steps", len(steps))
	}
	if got := steps[0].action.(*events.CmdRunAction).Thought; got != "Run the tests, then look." {
		t.Errorf("first thought = %q", got)
	}
	if got := steps[1].action.(*events.FileReadAction).Thought; got != "" {
		t.Errorf("second thought = %q", got)
	}
	if got := steps[2].action.(*events.AgentThinkAction).Thought; got != "compare" {
		t.Errorf("third thought = %q", got)
	}
	for i, s := range steps {
		md := s.info.ToolCallMetadata
		if md.TotalCallsInResponse != 3 || md.ToolCallID != resp.ToolCalls[i].ID || !bytes.Equal(md.ModelResponse, resp.ModelResponse) {
			t.Errorf("step %d metadata = %s", i, mustJSON(t, md))
		}
	}
}

func TestBadCallFailsTheWholeResponse(t *testing.T) {
	resp := response("r", "", call("c1", "execute_bash", `{"command": "ls"}`), call("c2", "execute_bash", `{}`))
	if steps, err := responseToActions(resp, toolsFor(defaultAgentConfig()), "m"); err == nil {
		t.Fatalf("no error; steps %d", len(steps))
	}
}

func TestSynthesizedModelResponse(t *testing.T) {
	// A provider that gives no model_response: the agent stores a LiteLLM-shaped one so that the
	// assistant message can be rebuilt from history.
	resp := &llm.Response{ID: "abc", Content: "hi", ToolCalls: []llm.ToolCall{call("c1", "think", `{"thought": "x"}`)}}
	raw := responseJSON(resp, "m")
	mr := parseModelResponse(raw)
	if mr.ID != "abc" || mr.text() != "hi" || len(mr.toolCalls()) != 1 || mr.toolCalls()[0] != resp.ToolCalls[0] {
		t.Errorf("model_response %s", raw)
	}
	given := response("x", "y")
	if !bytes.Equal(responseJSON(given, "m"), given.ModelResponse) {
		t.Error("a provider's model_response is not kept as is")
	}
}
