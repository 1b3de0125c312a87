package llm

import (
	"encoding/json"
	"strings"
	"testing"
)

var finishTool = Tool{Name: "finish", Description: "Finish.", Parameters: json.RawMessage(`{"type":"object","properties":{
	"message":{"type":"string"},"task_completed":{"type":"string","enum":["true","false","partial"]},
	"confidence":{"type":"number"},"urgent":{"type":"boolean"},"meta":{"type":"object"}},"required":["message"]}`)}

func TestParseTextToolCall(t *testing.T) {
	cases := []struct {
		name, in    string
		wantText    string
		wantName    string
		wantArgs    string
		wantNoCalls bool
	}{
		{name: "plain text", in: "Just an answer.", wantText: "Just an answer.", wantNoCalls: true},
		{name: "closed call", in: "Done.\n<function=finish>\n<parameter=message>All good</parameter>\n<parameter=task_completed>true</parameter>\n</function>",
			wantText: "Done.", wantName: "finish", wantArgs: `{"message": "All good", "task_completed": "true"}`},
		{name: "cut at the stop word", in: "<function=finish>\n<parameter=message>x</parameter>\n</",
			wantName: "finish", wantArgs: `{"message": "x"}`},
		{name: "typed values", in: "<function=finish>\n<parameter=message>m</parameter>\n<parameter=confidence> 0.75 </parameter>\n<parameter=urgent>false</parameter>\n<parameter=meta>{\"a\": 1}</parameter>\n",
			wantName: "finish", wantArgs: `{"message": "m", "confidence": 0.75, "urgent": false, "meta": {"a": 1}}`},
		{name: "unparseable typed value stays a string", in: "<function=finish>\n<parameter=confidence>high</parameter>\n",
			wantName: "finish", wantArgs: `{"confidence": "high"}`},
		{name: "unknown tool passed on", in: "<function=nope>\n<parameter=x>1</parameter>\n</function>",
			wantName: "nope", wantArgs: `{"x": "1"}`},
		{name: "only the first call", in: "<function=finish>\n<parameter=message>1</parameter>\n</function>\n<function=finish>\n<parameter=message>2</parameter>\n</function>",
			wantName: "finish", wantArgs: `{"message": "1"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, calls := parseTextToolCall(tc.in, []Tool{finishTool}, 3)
			if tc.wantNoCalls {
				if len(calls) != 0 || text != tc.wantText {
					t.Fatalf("text %q calls %+v", text, calls)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("calls = %+v", calls)
			}
			c := calls[0]
			if text != tc.wantText || c.ID != "toolu_03" || c.Name != tc.wantName || c.Arguments != tc.wantArgs {
				t.Errorf("got text %q call %+v\nwant args %s", text, c, tc.wantArgs)
			}
			if !json.Valid([]byte(c.Arguments)) {
				t.Errorf("arguments are not JSON: %s", c.Arguments)
			}
		})
	}
}

func TestRenderTextCallRoundTrips(t *testing.T) {
	tc := ToolCall{Name: "finish", Arguments: `{"message":"line 1\nline 2","confidence":0.5,"urgent":true,"meta":{"k":[1,2]}}`}
	text := renderTextCall(tc)
	want := "<function=finish>\n<parameter=message>\nline 1\nline 2\n</parameter>\n<parameter=confidence>0.5</parameter>\n<parameter=urgent>true</parameter>\n<parameter=meta>{\"k\":[1,2]}</parameter>\n</function>"
	if text != want {
		t.Fatalf("rendered\n%s\nwant\n%s", text, want)
	}
	_, calls := parseTextToolCall(text, []Tool{finishTool}, 1)
	var got, orig map[string]any
	_ = json.Unmarshal([]byte(calls[0].Arguments), &got)
	_ = json.Unmarshal([]byte(tc.Arguments), &orig)
	gb, _ := json.Marshal(got)
	ob, _ := json.Marshal(orig)
	if string(gb) != string(ob) {
		t.Errorf("round trip %s != %s", gb, ob)
	}
	if r := renderTextCall(ToolCall{Name: "x", Arguments: "not json"}); !strings.Contains(r, "not json") {
		t.Errorf("non-object arguments lost: %q", r)
	}
}

func TestToTextProtocolWithoutExampleTools(t *testing.T) {
	msgs := []Message{
		{Role: RoleUser, Content: Text("hi")},
		{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "a", Name: "lookup", Arguments: `{"q":"x"}`}, {ID: "b", Name: "lookup", Arguments: `{"q":"y"}`}}},
		{Role: RoleTool, ToolCallID: "a", Content: Text("1")},
	}
	lookup := Tool{Name: "lookup", Description: "Look up.", Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)}
	out := toTextProtocol(msgs, []Tool{lookup}, true)
	if len(out) != 3 || out[0].Content[0].Text != "hi" {
		t.Fatalf("no example expected for unknown tools: %+v", out[0])
	}
	if n := countTextToolCalls(out); n != 2 {
		t.Errorf("counted %d calls, want 2", n)
	}
	if out[2].Role != RoleUser || out[2].Content[0].Text != "EXECUTION RESULT of [function]:\n1" {
		t.Errorf("result = %+v", out[2])
	}
	if len(msgs[1].ToolCalls) != 2 || msgs[1].Content != nil {
		t.Errorf("input modified")
	}
}

func TestAnthropicParamsShape(t *testing.T) {
	c := &call{model: "claude", maxTokens: 100, messages: []Message{
		{Role: RoleAssistant, Content: Text("I start.")},
		{Role: RoleUser, Content: Text("")},
		{Role: RoleUser, Content: []ContentPart{{Type: "text", Text: "look"}, {Type: "image_url", ImageURL: "data:image/png;base64,iVBORw0KGgo="}}},
		{Role: RoleUser, Content: Text("and this")},
	}, stop: []string{"</function", " "}}
	p := anthropicParams(c)
	b, _ := json.Marshal(p)
	s := string(b)
	if len(p.Messages) != 3 || p.Messages[0].Role != "user" || p.Messages[1].Role != "assistant" || p.Messages[2].Role != "user" || len(p.Messages[2].Content) != 3 {
		t.Fatalf("messages = %s", s)
	}
	for _, want := range []string{`"media_type":"image/png"`, `"data":"iVBORw0KGgo="`, `"stop_sequences":["\u003c/function"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("params lack %s: %s", want, s)
		}
	}
}

func TestModelResponseTextOnly(t *testing.T) {
	mr, err := modelResponse(&completion{id: "x", created: 5, model: "m", content: "hello", finishReason: "stop", usage: Usage{PromptTokens: 3, CompletionTokens: 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"x","created":5,"model":"m","object":"chat.completion","system_fingerprint":null,"choices":[{"finish_reason":"stop","index":0,"message":{"content":"hello","role":"assistant","tool_calls":null,"function_call":null}}],"usage":{"completion_tokens":2,"prompt_tokens":3,"total_tokens":5,"completion_tokens_details":null,"prompt_tokens_details":{"audio_tokens":null,"cached_tokens":0}}}`
	if string(mr) != want {
		t.Errorf("model_response\n got %s\nwant %s", mr, want)
	}
}
