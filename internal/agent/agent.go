// Package agent defines what an agent is to the controller: something that, given the
// conversation so far, decides the next action. Implementations live in sub-packages (codeact,
// replay).
package agent

import (
	"context"

	"github.com/gohands/gohands/internal/events"
)

// Agent decides one action at a time.
type Agent interface {
	// Name is the agent class name as OpenHands spells it ("CodeActAgent").
	Name() string
	// Step returns the next action. Returning an error of the kinds in errors.go tells the
	// controller to feed an error observation back (malformed tool call, unknown tool) rather
	// than stop. A step may return several actions over successive calls (one LLM response
	// with several tool calls): the agent queues them.
	Step(ctx context.Context, st *State) (events.Action, *StepInfo, error)
	// Reset drops queued actions (after an error or a stop).
	Reset()
}

// StepInfo is what the controller attaches to the action's event.
type StepInfo struct {
	ToolCallMetadata *events.ToolCallMetadata
	// Timeout is a hard timeout the agent asked for (execute_bash's timeout), in seconds.
	Timeout *float64
}

// State is the controller's view of the conversation, handed to the agent at each step.
type State struct {
	ConversationID string
	// History is the events the agent may see, oldest first (OpenHands' filtered history:
	// no null events, no agent-state changes, nothing hidden).
	History []*events.Event
	// Iteration and MaxIterations count steps.
	Iteration, MaxIterations int
	// Metrics are the conversation's accumulated LLM metrics.
	Metrics *events.Metrics
	// Extra is free for agents to keep per-conversation data (condenser state…).
	Extra map[string]any
}

// Errors an agent returns for a bad LLM turn; the controller answers them with an error
// observation and steps again.
type MalformedActionError struct{ Msg string }

func (e *MalformedActionError) Error() string { return e.Msg }

// FunctionCallNotExistsError: the model called a tool that does not exist.
type FunctionCallNotExistsError struct{ Msg string }

func (e *FunctionCallNotExistsError) Error() string { return e.Msg }
