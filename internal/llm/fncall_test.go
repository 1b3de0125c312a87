package llm_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

var editorTool = llm.Tool{
	Name:        "str_replace_editor",
	Description: "View and edit files.",
	Parameters: json.RawMessage(`{"type":"object","properties":{
		"command":{"type":"string","enum":["view","create","str_replace"],"description":"What to do."},
		"path":{"type":"string","description":"Absolute path."},
		"file_text":{"type":"string","description":"Content for create."},
		"view_range":{"type":"array","items":{"type":"integer"},"description":"Lines."},
		"insert_line":{"type":"integer","description":"Line."}},
		"required":["command","path"]}`),
}

// A model without native tool calling, behind an OpenAI-compatible server (Ollama here): the
// tools travel in the system prompt, calls come back as text and become ToolCalls, results go
// back as user messages.
func TestTextToolCallingRoundTrip(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Reply("I'll create the file.\n<function=str_replace_editor>\n<parameter=command>create</parameter>\n" +
			"<parameter=path>/workspace/a.py</parameter>\n<parameter=file_text>\nprint(1)\nprint(2)\n</parameter>\n" +
			"<parameter=view_range>[1, 2]</parameter>\n<parameter=insert_line>3</parameter>\n"), // cut at the stop word
		llmtest.Reply("<function=execute_bash>\n<parameter=command>python a.py</parameter>\n</function>"),
		llmtest.Reply("All done."),
	})
	c, _ := newClient(t, "ollama/llama3.1", srv.URL, nil)
	if c.FunctionCalling() {
		t.Fatal("llama3.1 should not use native tool calling")
	}
	tools := []llm.Tool{bashTool, editorTool}
	ctx := context.Background()
	msgs := conversation("Write a.py and run it.")

	first, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if first.Content != "I'll create the file." || len(first.ToolCalls) != 1 {
		t.Fatalf("first = %+v", first)
	}
	call := first.ToolCalls[0]
	if call.ID != "toolu_01" || call.Name != "str_replace_editor" {
		t.Errorf("call = %+v", call)
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		t.Fatalf("arguments %q: %v", call.Arguments, err)
	}
	if args["command"] != "create" || args["file_text"] != "print(1)\nprint(2)" || args["insert_line"] != 3.0 {
		t.Errorf("arguments = %v", args)
	}
	if vr, ok := args["view_range"].([]any); !ok || len(vr) != 2 {
		t.Errorf("view_range = %#v", args["view_range"])
	}
	if first.FinishReason != "tool_calls" || !strings.Contains(string(first.ModelResponse), `"id":"toolu_01"`) {
		t.Errorf("model_response = %s", first.ModelResponse)
	}

	r := srv.Requests()[0]
	if len(r.Tools) != 0 {
		t.Errorf("tools sent natively: %v", r.Tools)
	}
	for _, want := range []string{"execute_bash", "str_replace_editor", "command (string, required)", "Allowed values: `view`, `create`, `str_replace`", "<function="} {
		if !strings.Contains(r.System, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	if !strings.Contains(r.Messages[0].Text, "--- EXAMPLE START ---") || !strings.Contains(r.Messages[0].Text, "Write a.py and run it.") {
		t.Errorf("first user message = %q", r.Messages[0].Text)
	}
	if len(r.Stop) != 1 || r.Stop[0] != "</function" {
		t.Errorf("stop = %v", r.Stop)
	}

	msgs = append(msgs,
		llm.Message{Role: llm.RoleAssistant, Content: llm.Text(first.Content), ToolCalls: first.ToolCalls},
		llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: llm.Text("File created.")})
	second, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.ToolCalls) != 1 || second.ToolCalls[0].ID != "toolu_02" || second.ToolCalls[0].Arguments != `{"command": "python a.py"}` {
		t.Fatalf("second = %+v", second.ToolCalls)
	}
	r = srv.Requests()[1]
	asst, result := r.Messages[1], r.Messages[2]
	if asst.Role != "assistant" || len(asst.ToolCalls) != 0 || !strings.HasPrefix(asst.Text, "I'll create the file.\n\n<function=str_replace_editor>\n<parameter=command>create</parameter>") ||
		!strings.Contains(asst.Text, "<parameter=file_text>\nprint(1)\nprint(2)\n</parameter>") {
		t.Errorf("assistant history = %q", asst.Text)
	}
	if result.Role != "user" || result.Text != "EXECUTION RESULT of [str_replace_editor]:\nFile created." {
		t.Errorf("tool result = %+v", result)
	}

	msgs = append(msgs,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: second.ToolCalls},
		llm.Message{Role: llm.RoleTool, ToolCallID: second.ToolCalls[0].ID, Name: "execute_bash", Content: llm.Text("1\n2")})
	third, err := c.Complete(ctx, llm.Request{Messages: msgs, Tools: tools})
	if err != nil || third.Content != "All done." || len(third.ToolCalls) != 0 {
		t.Fatalf("third = %+v, %v", third, err)
	}
}

func TestNativeToolCallingOverride(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Call("execute_bash", `{"command":"ls"}`)})
	c, _ := newClient(t, "hosted_vllm/qwen", srv.URL, func(cfg *config.LLM) { cfg.NativeToolCalling = ptr(true) })
	resp, err := c.Complete(context.Background(), llm.Request{Messages: conversation("ls"), Tools: []llm.Tool{bashTool}})
	if err != nil || len(resp.ToolCalls) != 1 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	if got := srv.Requests()[0].Tools; len(got) != 1 {
		t.Errorf("tools = %v, want native", got)
	}
	c2, _ := newClient(t, "openai/gpt-4o", srv.URL, func(cfg *config.LLM) { cfg.NativeToolCalling = ptr(false) })
	if c2.FunctionCalling() {
		t.Errorf("native_tool_calling=false ignored")
	}
}
