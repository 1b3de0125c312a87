package codeact

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// shape is a one-line account of a message: role, cache mark, calls or the call answered, and
// the start of each text part.
func shape(m llm.Message) string {
	var b strings.Builder
	b.WriteString(m.Role)
	for _, p := range m.Content {
		if p.CacheControl {
			b.WriteString("*")
		}
	}
	if m.ToolCallID != "" {
		fmt.Fprintf(&b, " [%s %s]", m.ToolCallID, m.Name)
	}
	for _, tc := range m.ToolCalls {
		fmt.Fprintf(&b, " ->%s:%s", tc.ID, tc.Name)
	}
	for _, p := range m.Content {
		text := p.Text
		if p.Type == "image_url" {
			text = "<image " + p.ImageURL + ">"
		}
		if r := []rune(text); len(r) > 40 {
			text = string(r[:40])
		}
		fmt.Fprintf(&b, " | %s", strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(text))
	}
	return b.String()
}

func shapes(msgs []llm.Message) string {
	var lines []string
	for _, m := range msgs {
		lines = append(lines, shape(m))
	}
	return strings.Join(lines, "\n")
}

func newConversation() *conversation {
	cfg := defaultAgentConfig()
	cfg.DisabledMicroagents = []string{"disabled"}
	return &conversation{cfg: cfg, systemPrompt: "PROMPT", maxChars: defaultMaxMessageChars}
}

// realisticHistory is a conversation with every shape the message builder handles.
func realisticHistory(t *testing.T) *history {
	h := &history{t: t}
	h.system("You are a test agent.")
	first := h.user("Fix the failing test")
	recallAct := h.add(events.NewAction(&events.RecallAction{RecallType: events.RecallWorkspaceContext, Query: "Fix the failing test"}), events.SourceUser)
	recall := h.add(events.NewObservation(&events.RecallObservation{
		RecallType: events.RecallWorkspaceContext, RepoName: "acme/api", RepoDirectory: "api",
		RepoInstructions: "Run make test before committing.", RuntimeHosts: map[string]int{"http://localhost:50001": 50001},
		Date: "2025-08-01", CustomSecretsDescriptions: map[string]string{"STRIPE_KEY": "test key"},
		WorkingDir:          "/workspace",
		MicroagentKnowledge: []events.MicroagentKnowledge{{Name: "github", Trigger: "git", Content: "Use the gh CLI."}},
	}, "Added workspace context"), events.SourceEnvironment)
	recall.Cause = &recallAct.ID
	_ = first

	r1 := response("resp-1", "Let me look first.",
		call("c1", "execute_bash", `{"command": "make test"}`),
		call("c2", "str_replace_editor", `{"command": "view", "path": "/workspace/api/x.go"}`))
	a1 := h.action(&events.CmdRunAction{Command: "make test", Thought: "Let me look first."}, r1, 0)
	h.result(a1, runOutput("make test", "FAIL x_test.go:3", 2), "FAIL x_test.go:3")
	a2 := h.action(&events.FileReadAction{Path: "/workspace/api/x.go", End: -1, ImplSource: events.ImplSourceOHACI}, r1, 1)
	h.result(a2, &events.FileReadObservation{Path: "/workspace/api/x.go", ImplSource: events.ImplSourceOHACI}, "     1\tpackage x")

	h.user("Also update the README")
	know := h.add(events.NewObservation(&events.RecallObservation{
		RecallType: events.RecallKnowledge,
		MicroagentKnowledge: []events.MicroagentKnowledge{
			{Name: "github", Trigger: "git", Content: "Use the gh CLI."}, // already shown: left out
			{Name: "readme", Trigger: "readme", Content: "READMEs use sentence case."},
			{Name: "disabled", Trigger: "readme", Content: "never shown"},
		},
	}, "Retrieved knowledge from microagents"), events.SourceEnvironment)
	_ = know

	r2 := response("resp-2", "", call("c3", "str_replace_editor", `{"command": "str_replace", "path": "/workspace/api/README.md", "old_str": "a", "new_str": "b"}`))
	a3 := h.action(&events.FileEditAction{Path: "/workspace/api/README.md", Command: "str_replace", ImplSource: events.ImplSourceOHACI}, r2, 0)
	h.result(a3, &events.FileEditObservation{Path: "/workspace/api/README.md", ImplSource: events.ImplSourceOHACI}, "The file /workspace/api/README.md has been edited.")

	// A malformed call answered by the controller: no tool metadata.
	h.add(events.NewObservation(&events.ErrorObservation{}, `Missing required argument "command" in the execute_bash call.`), events.SourceAgent)

	// A tool result whose call was condensed away: dropped.
	orphanResp := response("resp-gone", "", call("c9", "execute_bash", `{"command": "ls"}`))
	orphan := h.add(events.NewObservation(runOutput("ls", "a b", 0), "a b"), events.SourceAgent)
	orphan.ToolCallMetadata = metadata(orphanResp, 0)

	// A response with a command and finish: finish gets no result, the command's pair survives.
	r3 := response("resp-3", "Tests pass now.",
		call("c4", "execute_bash", `{"command": "make test"}`),
		call("c5", "finish", `{"message": "Fixed the test and the README.", "task_completed": "true"}`))
	a4 := h.action(&events.CmdRunAction{Command: "make test", Thought: "Tests pass now."}, r3, 0)
	h.result(a4, runOutput("make test", "ok", 0), "ok")
	h.action(&events.AgentFinishAction{FinalThought: "Fixed the test and the README.", TaskCompleted: ptr("true"), Outputs: events.RawJSON("{}")}, r3, 1)

	// A call still without a result: not sent.
	r4 := response("resp-4", "", call("c6", "execute_bash", `{"command": "sleep 100"}`))
	h.action(&events.CmdRunAction{Command: "sleep 100"}, r4, 0)
	return h
}

func TestMessagesFromRealisticHistory(t *testing.T) {
	h := realisticHistory(t)
	msgs := newConversation().messages(h.evs, h.evs[1])
	want := strings.Join([]string{
		`system* | You are a test agent.`,
		`user | Fix the failing test`,
		`user | \n\n<REPOSITORY_INFO>\nThe repository acme/ | <EXTRA_INFO>\nThe following was added bec`,
		`assistant ->c1:execute_bash ->c2:str_replace_editor | Let me look first.`,
		`tool [c1 execute_bash] | FAIL x_test.go:3\n[The command completed `,
		`tool [c2 str_replace_editor] |      1\tpackage x`,
		`user | Also update the README`,
		`user | \n\n<EXTRA_INFO>\nThe following was added b`,
		`assistant ->c3:str_replace_editor`,
		`tool [c3 str_replace_editor] | The file /workspace/api/README.md has be`,
		`user | Missing required argument "command" in t`,
		`assistant ->c4:execute_bash | Tests pass now.`,
		`tool* [c4 execute_bash] | ok\n[The command completed with exit code`,
		`assistant | Fixed the test and the README.`,
	}, "\n")
	if got := shapes(msgs); got != want {
		t.Errorf("messages:\n%s\n\nwant:\n%s", got, want)
	}

	text := func(i, part int) string { return msgs[i].Content[part].Text }
	for _, s := range []string{"acme/api", "api", "Run make test before committing.", "http://localhost:50001 (port 50001)",
		"$STRIPE_KEY: test key", "2025-08-01", "/workspace", "<RUNTIME_INFORMATION>", "<REPOSITORY_INSTRUCTIONS>", "<CUSTOM_SECRETS>"} {
		if !strings.Contains(text(2, 0), s) {
			t.Errorf("workspace context lacks %q:\n%s", s, text(2, 0))
		}
	}
	if !strings.Contains(text(2, 1), "Use the gh CLI.") || !strings.Contains(text(2, 1), `"git"`) {
		t.Errorf("microagent block: %s", text(2, 1))
	}
	if k := text(7, 0); !strings.Contains(k, "sentence case") || strings.Contains(k, "gh CLI") || strings.Contains(k, "never shown") {
		t.Errorf("knowledge block (duplicates and disabled microagents must be left out): %s", k)
	}
	wantRun := "FAIL x_test.go:3\n[The command completed with exit code 2.]\n[Current working directory: /workspace]\n[Exit code: 2]"
	if got := text(4, 0); got != wantRun {
		t.Errorf("run rendering %q, want %q", got, wantRun)
	}
	if got := text(10, 0); !strings.HasSuffix(got, errorTrailer) {
		t.Errorf("error observation %q lacks the trailer", got)
	}
	if msgs[3].ToolCalls[0].Arguments != `{"command": "make test"}` {
		t.Errorf("arguments not kept as the model wrote them: %s", msgs[3].ToolCalls[0].Arguments)
	}
}

func TestMessagesInsertSystemAndInitialUserMessage(t *testing.T) {
	h := &history{t: t}
	initial := h.user("Task")
	r := response("r", "", call("c1", "think", `{"thought": "x"}`))
	a := h.action(&events.AgentThinkAction{Thought: "x"}, r, 0)
	h.result(a, &events.AgentThinkObservation{}, "Your thought has been logged.")
	// A condensed view that lost both the system event and the task.
	view := []*events.Event{events.NewObservation(&events.AgentCondensationObservation{}, "SUMMARY"), h.evs[1], h.evs[2]}
	msgs := newConversation().messages(view, initial)
	want := "system* | PROMPT\nuser | Task\nuser | \\n\\nSUMMARY\nassistant ->c1:think\ntool* [c1 think] | Your thought has been logged."
	if got := shapes(msgs); got != want {
		t.Errorf("messages:\n%s\nwant:\n%s", got, want)
	}
}

func TestMessagesUserActionsAndMessages(t *testing.T) {
	h := &history{t: t}
	h.system("S")
	h.user("Task")
	// The user ran a command from the terminal tab: no tool metadata.
	run := h.add(events.NewAction(&events.CmdRunAction{Command: "git status"}), events.SourceUser)
	h.add(events.NewObservation(runOutput("git status", "clean", 0), "clean"), events.SourceUser).Cause = &run.ID
	h.add(events.NewAction(&events.MessageAction{Content: "Which branch?", WaitForResponse: true}), events.SourceAgent)
	h.user("main")
	h.add(events.NewObservation(&events.UserRejectObservation{}, "Action has been rejected by the user! Waiting for further user input."), events.SourceAgent)
	msgs := newConversation().messages(h.evs, h.evs[1])
	want := strings.Join([]string{
		`system* | S`,
		`user | Task`,
		`user | \n\nThe user ran this command in the shell`,
		`user | \n\n\nThe user ran a command in the shell; `,
		`assistant | Which branch?`,
		`user | main`,
		`user* | \n\nOBSERVATION:\nAction has been rejected `,
	}, "\n")
	if got := shapes(msgs); got != want {
		t.Errorf("messages:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasSuffix(msgs[6].Content[0].Text, rejectedSuffix) {
		t.Errorf("rejection text: %q", msgs[6].Content[0].Text)
	}
}

func TestMessagesTruncation(t *testing.T) {
	long := strings.Repeat("a", 20000) + strings.Repeat("b", 20000)
	h := &history{t: t}
	h.system("S")
	h.user("Task")
	r := response("r", "", call("c1", "execute_bash", `{"command": "cat big"}`), call("c2", "str_replace_editor", `{"command": "view", "path": "/big"}`))
	a1 := h.action(&events.CmdRunAction{Command: "cat big"}, r, 0)
	o := runOutput("cat big", long, 0)
	o.Metadata.WorkingDir = nil
	o.Metadata.Suffix = ""
	h.result(a1, o, long)
	a2 := h.action(&events.FileReadAction{Path: "/big", End: -1, ImplSource: events.ImplSourceOHACI}, r, 1)
	h.result(a2, &events.FileReadObservation{Path: "/big"}, long)
	h.add(events.NewObservation(&events.ErrorObservation{}, long), events.SourceAgent)

	msgs := newConversation().messages(h.evs, h.evs[1])
	run := msgs[3].Content[0].Text
	if len(run) > 30000+len(truncateMarker) || !strings.HasPrefix(run, strings.Repeat("a", 15000)+truncateMarker) {
		t.Errorf("run output not cut in the middle: %d chars", len(run))
	}
	// The exit-code line is appended before truncation, as OpenHands does: the tail keeps it.
	if !strings.HasSuffix(run, "\n[Exit code: 0]") || len(run) != 30000+len(truncateMarker) {
		t.Errorf("run tail: %q", run[len(run)-40:])
	}
	if read := msgs[4].Content[0].Text; read != long {
		t.Errorf("read output was cut (%d chars); the editor bounds it already", len(read))
	}
	if e := msgs[5].Content[0].Text; !strings.Contains(e, truncateMarker) || !strings.HasSuffix(e, errorTrailer) {
		t.Errorf("error observation: cut %v, trailer %v", strings.Contains(e, truncateMarker), strings.HasSuffix(e, errorTrailer))
	}

	small := newConversation()
	small.maxChars = 10
	if got := truncate("0123456789abcdef", small.maxChars); got != "01234"+truncateMarker+"bcdef" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("héllo wörld", 4); got != "hé"+truncateMarker+"ld" {
		t.Errorf("truncate counts bytes, not characters: %q", got)
	}
	if got := truncate(long, -1); got != long {
		t.Error("a negative limit must disable truncation")
	}
}

func TestMessagesCacheMarks(t *testing.T) {
	h := realisticHistory(t)
	msgs := newConversation().messages(h.evs, h.evs[1])
	var marked []int
	for i, m := range msgs {
		for j, p := range m.Content {
			if p.CacheControl {
				marked = append(marked, i)
				if j != len(m.Content)-1 {
					t.Errorf("message %d: mark on part %d of %d, want the last", i, j, len(m.Content))
				}
			}
		}
	}
	if fmt.Sprint(marked) != "[0 12]" {
		t.Errorf("marked messages %v, want [0 12] (system, last tool message)", marked)
	}
	// Marks must not leak into the history's shared parts between builds.
	again := newConversation().messages(h.evs, h.evs[1])
	if shapes(again) != shapes(msgs) {
		t.Error("building twice gives different messages")
	}
}

func TestMessagesVision(t *testing.T) {
	h := &history{t: t}
	h.system("S")
	h.add(events.NewAction(&events.MessageAction{Content: "What is this?", ImageURLs: []string{"data:image/png;base64,AAA", "http://x/b.png"}}), events.SourceUser)
	c := newConversation()
	if got := shapes(c.messages(h.evs, h.evs[1])); !strings.HasSuffix(got, "user* | What is this?") {
		t.Errorf("without vision images must not be sent:\n%s", got)
	}
	c.vision = true
	got := shapes(c.messages(h.evs, h.evs[1]))
	want := "user* | What is this? | Image 1: | <image data:image/png;base64,AAA> | Image 2: | <image http://x/b.png>"
	if !strings.HasSuffix(got, want) {
		t.Errorf("vision:\n%s\nwant suffix %s", got, want)
	}
}

func TestMessagesPromptExtensionsOff(t *testing.T) {
	h := realisticHistory(t)
	c := newConversation()
	c.cfg.EnablePromptExtensions = false
	for _, m := range c.messages(h.evs, h.evs[1]) {
		for _, p := range m.Content {
			if strings.Contains(p.Text, "EXTRA_INFO") || strings.Contains(p.Text, "REPOSITORY_INFO") {
				t.Fatalf("recall rendered with prompt extensions off: %s", shape(m))
			}
		}
	}
}

func TestFilterUnmatched(t *testing.T) {
	msgs := []llm.Message{
		textMessage(llm.RoleSystem, "S"),
		{Role: llm.RoleAssistant, Content: llm.Text("two calls"), ToolCalls: []llm.ToolCall{call("a", "x", "{}"), call("b", "x", "{}")}},
		{Role: llm.RoleTool, ToolCallID: "a", Name: "x", Content: llm.Text("ra")},
		{Role: llm.RoleTool, ToolCallID: "z", Name: "x", Content: llm.Text("orphan")},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{call("q", "x", "{}")}},
		textMessage(llm.RoleUser, "u"),
	}
	got := shapes(filterUnmatched(msgs))
	want := "system | S\nassistant ->a:x | two calls\ntool [a x] | ra\nuser | u"
	if got != want {
		t.Errorf("filtered:\n%s\nwant:\n%s", got, want)
	}
}

// TestMessagesFromOpenHandsTrajectory rebuilds the messages of a conversation OpenHands 0.50
// recorded: its tool calls and results must pair up from the stored model_response alone.
func TestMessagesFromOpenHandsTrajectory(t *testing.T) {
	evs := loadTrajectory(t, "basic.json")
	msgs := newConversation().messages(evs, evs[0])
	want := strings.Join([]string{
		`system* | PROMPT`,
		`user | Please create a simple 2048 game. No nee`,
		`assistant ->toolu_017nBp7UfiGqyrA7j77HgtFP:str_replace_editor | I'll help you create a simple 2048 game `,
		`tool* [toolu_017nBp7UfiGqyrA7j77HgtFP str_replace_editor] | --- /workspace/game_2048.py\n+++ /workspa`,
		`assistant | I've created a simple implementation of `,
	}, "\n")
	if got := shapes(msgs); got != want {
		t.Errorf("messages:\n%s\nwant:\n%s", got, want)
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(msgs[2].ToolCalls[0].Arguments), &args); err != nil || args["command"] != "create" {
		t.Errorf("tool call arguments %q: %v", msgs[2].ToolCalls[0].Arguments, err)
	}
}

// loadTrajectory reads a trajectory recorded by OpenHands 0.50 from the shared fixtures.
func loadTrajectory(t *testing.T, name string) []*events.Event {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	var path string
	for _, dir := range []string{filepath.Join(root, "testdata"), filepath.Join(root, "..", "shared", "fixtures")} {
		p := filepath.Join(dir, "openhands-0.50", "trajectories", name)
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatalf("fixture %s not found: it lives in the shared fixtures (fixtures/openhands-0.50/trajectories) next to the repository", name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		t.Fatal(err)
	}
	var evs []*events.Event
	for _, raw := range raws {
		ev, err := events.Decode(raw)
		if err != nil {
			t.Fatalf("decode %s: %v", raw[:min(len(raw), 200)], err)
		}
		evs = append(evs, ev)
	}
	return evs
}
