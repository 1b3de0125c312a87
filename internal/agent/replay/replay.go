// Package replay is the agent that replays a recorded OpenHands trajectory (replay_json): instead of
// asking an LLM, each step returns the next recorded action, so the recorded actions run again, in
// order, against a fresh sandbox.
package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
)

// Name is the agent's class name.
const Name = "ReplayAgent"

// Load reads a trajectory: a JSON array of OpenHands events (what OpenHands saves with
// save_trajectory_path or evals record), or the object {"trajectory": [...]} that
// GET /api/conversations/{id}/trajectory returns.
func Load(r io.Reader) ([]*events.Event, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read trajectory: %w", err)
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var wrapped struct {
			Trajectory json.RawMessage `json:"trajectory"`
		}
		if err := json.Unmarshal(data, &wrapped); err != nil || wrapped.Trajectory == nil {
			return nil, errors.New("trajectory: expected a JSON array of events, or an object with a \"trajectory\" array")
		}
		data = wrapped.Trajectory
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("trajectory: expected a JSON array of events: %w", err)
	}
	evs := make([]*events.Event, 0, len(items))
	for i, raw := range items {
		ev, err := events.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("trajectory event at index %d: %w", i, err)
		}
		if ev.Source != "" && !ev.Source.Valid() {
			return nil, fmt.Errorf("trajectory event at index %d: unknown source %q", i, ev.Source)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

var _ agent.Agent = (*Agent)(nil)

// Agent replays a trajectory.
//
// Recorded user messages are part of the replay: Step returns them where they were, and
// StepSource then reports events.SourceUser, so that the controller appends them as the user's
// (memory answers them, the agent state follows) rather than as the agent's. This is what
// OpenHands' ReplayManager does: it hands the controller every recorded user or agent action, and
// the controller adds each with its recorded source. The first user message, when the recording
// starts with one, is the task: it is not replayed by Step; whoever starts the conversation posts
// it (InitialMessage), as OpenHands' replay does.
type Agent struct {
	steps   []*events.Event
	next    int
	initial *events.MessageAction
	source  events.Source // of the action the last Step returned
	then    agent.Agent
}

// New prepares the replay of trajectory. Left out are what the environment recorded
// (observations, state changes), what the new conversation produces for itself (system message,
// recalls, null events) and what refers to the recorded conversation's event ids (condensations);
// an action that waited for the user's confirmation is replayed as the confirmed or rejected copy
// that follows it. A message that waited for the user does not wait during the replay (the
// recording already holds the answer), except the last one.
func New(trajectory []*events.Event) *Agent {
	a := &Agent{source: events.SourceAgent}
	for _, ev := range trajectory {
		if replayable(ev) {
			a.steps = append(a.steps, ev)
		}
	}
	if len(a.steps) > 0 {
		if m, ok := a.steps[0].Action.(*events.MessageAction); ok && a.steps[0].Source == events.SourceUser {
			cp := *m
			a.initial = &cp
			a.steps = a.steps[1:]
		}
	}
	return a
}

func replayable(ev *events.Event) bool {
	if ev.Action == nil || ev.Source == events.SourceEnvironment || ev.Hidden() {
		return false
	}
	switch a := ev.Action.(type) {
	case *events.SystemMessageAction, *events.RecallAction, *events.ChangeAgentStateAction, *events.NullAction,
		*events.CondensationAction, *events.CondensationRequestAction:
		return false
	case *events.CmdRunAction:
		return a.ConfirmationState != events.ConfirmationAwaiting
	case *events.IPythonRunCellAction:
		return a.ConfirmationState != events.ConfirmationAwaiting
	}
	return true
}

// Then makes the replay hand over to next once the recording is exhausted, as OpenHands does with
// replay_json (the conversation goes on with the configured agent). Without it, the replay
// finishes the task when the recording ends.
func (a *Agent) Then(next agent.Agent) *Agent {
	a.then = next
	return a
}

// InitialMessage is the recording's first user message (the task), nil when the recording does
// not start with one.
func (a *Agent) InitialMessage() *events.MessageAction {
	if a.initial == nil {
		return nil
	}
	cp := *a.initial
	return &cp
}

// Remaining is how many recorded actions are still to be replayed.
func (a *Agent) Remaining() int { return len(a.steps) - a.next }

// Name implements agent.Agent.
func (a *Agent) Name() string { return Name }

// SystemMessage is the system message of the agent the replay hands over to, if any.
func (a *Agent) SystemMessage() *events.SystemMessageAction {
	if sm, ok := a.then.(interface {
		SystemMessage() *events.SystemMessageAction
	}); ok {
		return sm.SystemMessage()
	}
	return nil
}

// Step returns a copy of the next recorded action with its tool-call metadata and timeout; when
// the recording is over, the next agent's step, or a finish action.
func (a *Agent) Step(ctx context.Context, st *agent.State) (events.Action, *agent.StepInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	a.source = events.SourceAgent
	if a.next >= len(a.steps) {
		if a.then != nil {
			return a.then.Step(ctx, st)
		}
		return &events.AgentFinishAction{
			FinalThought: "The recorded trajectory has been replayed to its end.",
			Outputs:      events.RawJSON("{}"),
		}, &agent.StepInfo{}, nil
	}
	rec := a.steps[a.next]
	a.next++
	ev := rec.Clone() // the controller may change the action it is given
	if m, ok := ev.Action.(*events.MessageAction); ok && a.next < len(a.steps) {
		m.WaitForResponse = false
	}
	if ev.Source == events.SourceUser {
		a.source = events.SourceUser
	}
	return ev.Action, &agent.StepInfo{ToolCallMetadata: ev.ToolCallMetadata, Timeout: ev.Timeout}, nil
}

// StepSource is the recorded source of the action the last Step returned: events.SourceUser for
// a recorded user message (or user command), else events.SourceAgent.
func (a *Agent) StepSource() events.Source { return a.source }

// Reset keeps the replay's position (a stopped replay that resumes goes on where it was) and
// resets the agent it hands over to.
func (a *Agent) Reset() {
	if a.then != nil {
		a.then.Reset()
	}
}
