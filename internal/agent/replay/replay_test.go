package replay

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
)

// fixtures holds the sample trajectories of OpenHands 0.50 (tests/runtime/trajs).
const fixtures = "../../../../shared/fixtures/openhands-0.50/trajectories"

func loadFixture(t *testing.T, name string) []*events.Event {
	t.Helper()
	path := filepath.Join(fixtures, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the OpenHands 0.50 sample trajectory %s is missing (%v): copy tests/runtime/trajs/%s "+
			"from the OpenHands 0.50.0 source tree to that path", path, err, name)
	}
	defer f.Close()
	evs, err := Load(f)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return evs
}

func TestReplayBasic(t *testing.T) {
	evs := loadFixture(t, "basic.json")
	if len(evs) != 4 {
		t.Fatalf("basic.json: %d events, want 4", len(evs))
	}
	a := New(evs)
	task := a.InitialMessage()
	if task == nil || !strings.HasPrefix(task.Content, "Please create a simple 2048 game.") {
		t.Fatalf("initial message = %+v, want the recorded task", task)
	}
	if a.Remaining() != 2 {
		t.Fatalf("Remaining() = %d, want 2 (edit, finish)", a.Remaining())
	}
	ctx := context.Background()
	st := &agent.State{}

	act, info, err := a.Step(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	edit, ok := act.(*events.FileEditAction)
	if !ok || edit.Command != "create" || edit.Path != "/workspace/game_2048.py" {
		t.Fatalf("step 1 = %#v, want the recorded create of /workspace/game_2048.py", act)
	}
	if info.ToolCallMetadata == nil || info.ToolCallMetadata.ToolCallID != "toolu_017nBp7UfiGqyrA7j77HgtFP" ||
		info.ToolCallMetadata.FunctionName != "str_replace_editor" {
		t.Errorf("step 1 tool call metadata = %+v", info.ToolCallMetadata)
	}
	if info.Timeout == nil || *info.Timeout != 120 {
		t.Errorf("step 1 timeout = %v, want 120", info.Timeout)
	}
	if a.StepSource() != events.SourceAgent {
		t.Errorf("step 1 source = %s", a.StepSource())
	}
	// Changing what Step returned must not change the recording.
	edit.Path = "/elsewhere"
	if evs[1].Action.(*events.FileEditAction).Path != "/workspace/game_2048.py" {
		t.Error("Step returned the recorded action itself, not a copy")
	}

	act, info, err = a.Step(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	fin, ok := act.(*events.AgentFinishAction)
	if !ok || !strings.HasPrefix(fin.Thought, "I've created a simple implementation") {
		t.Fatalf("step 2 = %#v, want the recorded finish", act)
	}
	if info.ToolCallMetadata == nil || info.ToolCallMetadata.FunctionName != "finish" {
		t.Errorf("step 2 tool call metadata = %+v", info.ToolCallMetadata)
	}

	// The recording is over: the replay finishes.
	act, _, err = a.Step(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if fin, ok := act.(*events.AgentFinishAction); !ok || fin.Thought != "" || fin.FinalThought == "" {
		t.Fatalf("step 3 = %#v, want a finish saying the replay ended", act)
	}
}

func TestReplayUserMessages(t *testing.T) {
	a := New(loadFixture(t, "basic_interactions.json"))
	if m := a.InitialMessage(); m == nil || m.Content != "what's 1+1?" {
		t.Fatalf("initial message = %+v", m)
	}
	type step struct {
		source  events.Source
		content string
		wait    bool
	}
	want := []step{
		{events.SourceAgent, "1 + 1 equals 2.", false}, // recorded wait_for_response is dropped
		{events.SourceUser, "No, I mean by Goldbach's conjecture!", false},
		{events.SourceAgent, "Goldbach's conjecture", false},
		{events.SourceUser, "Finish please", false},
	}
	ctx := context.Background()
	for i, w := range want {
		act, _, err := a.Step(ctx, &agent.State{})
		if err != nil {
			t.Fatal(err)
		}
		m, ok := act.(*events.MessageAction)
		if !ok || !strings.HasPrefix(m.Content, w.content) || m.WaitForResponse != w.wait {
			t.Fatalf("step %d = %#v, want message %q (wait %v)", i+1, act, w.content, w.wait)
		}
		if a.StepSource() != w.source {
			t.Errorf("step %d source = %s, want %s", i+1, a.StepSource(), w.source)
		}
	}
	act, _, _ := a.Step(ctx, &agent.State{})
	if _, ok := act.(*events.AgentFinishAction); !ok || a.StepSource() != events.SourceAgent {
		t.Fatalf("last step = %#v from %s, want the recorded finish from the agent", act, a.StepSource())
	}
}

func TestReplaySkips(t *testing.T) {
	meta := func(id string) *events.ToolCallMetadata {
		return &events.ToolCallMetadata{FunctionName: "execute_bash", ToolCallID: id, ModelResponse: events.RawJSON("{}")}
	}
	ev := func(a events.Action, src events.Source) *events.Event {
		e := events.NewAction(a)
		e.Source = src
		return e
	}
	awaiting := ev(&events.CmdRunAction{Command: "rm x", ConfirmationState: events.ConfirmationAwaiting}, events.SourceAgent)
	awaiting.ToolCallMetadata = meta("t1")
	confirmed := ev(&events.CmdRunAction{Command: "rm x", ConfirmationState: events.ConfirmationConfirmed}, events.SourceAgent)
	confirmed.ToolCallMetadata = meta("t1")
	traj := []*events.Event{
		ev(&events.SystemMessageAction{Content: "sys"}, events.SourceAgent),
		ev(&events.MessageAction{Content: "task"}, events.SourceUser),
		ev(&events.RecallAction{Query: "task"}, events.SourceUser),
		ev(&events.ChangeAgentStateAction{AgentState: events.StateRunning}, events.SourceEnvironment),
		events.NewObservation(&events.AgentStateChangedObservation{AgentState: events.StateRunning}, ""),
		awaiting,
		confirmed,
		ev(&events.CmdRunAction{Command: "setup", Hidden: true}, events.SourceEnvironment),
		ev(&events.CondensationAction{ForgottenEventIDs: []int64{1}}, events.SourceAgent),
		ev(&events.CmdRunAction{Command: "ls", ConfirmationState: events.ConfirmationConfirmed}, events.SourceUser),
	}
	a := New(traj)
	if m := a.InitialMessage(); m == nil || m.Content != "task" {
		t.Fatalf("initial message = %+v", m)
	}
	var got []string
	for a.Remaining() > 0 {
		act, _, err := a.Step(context.Background(), &agent.State{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(a.StepSource())+":"+act.(*events.CmdRunAction).Command+":"+act.(*events.CmdRunAction).ConfirmationState)
	}
	want := []string{"agent:rm x:confirmed", "user:ls:confirmed"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", "nope", "expected a JSON array"},
		{"object without trajectory", `{"events": []}`, "\"trajectory\" array"},
		{"bad event", `[{"action": "message", "args": {"content": "hi"}}, {"action": "no_such_action", "args": {}}]`, "index 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	evs, err := Load(strings.NewReader(`{"trajectory": [{"action": "message", "source": "user", "args": {"content": "hi"}}]}`))
	if err != nil || len(evs) != 1 || evs[0].Action.(*events.MessageAction).Content != "hi" {
		t.Fatalf("Load of the API's trajectory object = %v, %v", evs, err)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
