package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/agent/replay"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage/eventlog"
)

const trajectories = "../../../shared/fixtures/openhands-0.50/trajectories"

func loadTrajectory(t *testing.T, name string) *replay.Agent {
	t.Helper()
	path := filepath.Join(trajectories, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the OpenHands 0.50 sample trajectory %s is missing (%v): copy tests/runtime/trajs/%s "+
			"from the OpenHands 0.50.0 source tree to that path", path, err, name)
	}
	defer f.Close()
	evs, err := replay.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return replay.New(evs)
}

// Replaying OpenHands' basic trajectory executes the recorded edit again and finishes.
func TestReplayBasicTrajectory(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	ag := loadTrajectory(t, "basic.json")
	c := start(t, s, ag, Config{Headless: true})
	appendEvent(t, s, events.NewAction(ag.InitialMessage()), events.SourceUser)
	waitState(t, c, events.StateFinished)

	want := []string{
		"user action:message Please create a simple 2048 game. No need to run it. Please ",
		"user action:recall workspace_context",
		"environment observation:agent_state_changed running",
		"environment observation:null No observation",
		"agent action:edit ",
		"agent observation:edit I edited the file /workspace/game_2048.py.",
		"agent action:finish I've created a simple implementation of the 2048 game with t",
		"environment observation:agent_state_changed finished",
	}
	if got := kinds(t, s, 0); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	edit := all(t, s)[4]
	if edit.ToolCallMetadata == nil || edit.ToolCallMetadata.ToolCallID != "toolu_017nBp7UfiGqyrA7j77HgtFP" ||
		edit.Timeout == nil || *edit.Timeout != 120 || edit.LLMMetrics == nil {
		t.Errorf("replayed edit: tool call %+v, timeout %v, metrics %v", edit.ToolCallMetadata, edit.Timeout, edit.LLMMetrics)
	}
}

// Recorded user messages are fed where they were, as the user's.
func TestReplayUserMessages(t *testing.T) {
	s := openStream(t, "", eventlog.Options{})
	startRuntime(t, s)
	startMemory(t, s)
	ag := loadTrajectory(t, "basic_interactions.json")
	c := start(t, s, ag, Config{Headless: true})
	appendEvent(t, s, events.NewAction(ag.InitialMessage()), events.SourceUser)
	waitState(t, c, events.StateFinished)

	var got []string
	for _, ev := range all(t, s) {
		switch a := ev.Action.(type) {
		case *events.MessageAction:
			got = append(got, string(ev.Source)+": "+a.Content[:min(len(a.Content), 20)])
		case *events.RecallAction:
			got = append(got, "recall "+a.RecallType)
		case *events.AgentFinishAction:
			got = append(got, string(ev.Source)+": finish")
		}
	}
	want := []string{
		"user: what's 1+1?", "recall workspace_context",
		"agent: 1 + 1 equals 2.",
		"user: No, I mean by Goldba", "recall knowledge",
		"agent: Goldbach's conjectur",
		"user: Finish please", "recall knowledge",
		"agent: finish",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("conversation:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
