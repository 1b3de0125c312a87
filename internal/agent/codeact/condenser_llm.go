package codeact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// summaryCondenser is OpenHands' LLMSummarizingCondenser: when the view grows past maxSize
// events (or the history asks for it), the events between the first keepFirst and the most recent
// ones are forgotten and a model writes a summary of them, which the view then shows at index
// keepFirst. About maxSize/2 events remain: the head, the summary and the tail.
type summaryCondenser struct {
	client         llm.Client
	keepFirst      int
	maxSize        int
	maxEventLength int
	log            *slog.Logger
}

func (s *summaryCondenser) Condense(ctx context.Context, v View) (View, *events.CondensationAction, error) {
	n := len(v.Events)
	if n <= s.maxSize && !v.UnhandledCondensationRequest {
		return v, nil, nil
	}
	head := min(s.keepFirst, n)
	body := v.Events[head:]
	var previous string
	if len(body) > 0 && isSummary(body[0]) {
		previous = body[0].Content()
		body = body[1:]
	}
	tail := tailToKeep(len(body), s.maxSize/2-head-1)
	var forgotten []*events.Event
	for _, ev := range body[:len(body)-tail] {
		if ev.ID >= 0 && !isSummary(ev) {
			forgotten = append(forgotten, ev)
		}
	}
	if len(forgotten) == 0 {
		return v, nil, nil
	}
	summary, err := s.summary(ctx, previous, forgotten)
	if err != nil {
		return v, nil, err
	}
	// OpenHands records the forgotten events as one range from the smallest id to the largest.
	start, end := forgotten[0].ID, forgotten[0].ID
	for _, ev := range forgotten {
		start, end = min(start, ev.ID), max(end, ev.ID)
	}
	offset := head
	return v, &events.CondensationAction{
		ForgottenEventsStartID: &start,
		ForgottenEventsEndID:   &end,
		Summary:                &summary,
		SummaryOffset:          &offset,
	}, nil
}

// droppedNote ends a summary that could not cover everything.
const droppedNote = "(Some earlier events were dropped without being summarized: they were too long to summarize.)"

// summary asks the model for the new summary. When even the summarising request is too long for
// the model, the events are cut shorter and it tries again; in the end the events are dropped
// with only the previous summary kept, so that condensing always makes progress.
func (s *summaryCondenser) summary(ctx context.Context, previous string, forgotten []*events.Event) (string, error) {
	budget := s.maxEventLength
	for attempt := 0; attempt < 4; attempt++ {
		resp, err := s.client.Complete(ctx, llm.Request{Messages: []llm.Message{
			{Role: llm.RoleUser, Content: llm.Text(summaryPrompt(previous, forgotten, budget))},
		}})
		switch {
		case err == nil:
			if text := strings.TrimSpace(resp.Content); text != "" {
				return text, nil
			}
			return strings.TrimSpace(previous + "\n\n" + droppedNote), nil
		case errors.Is(err, llm.ErrContextWindow):
			s.log.Info("condenser: summarising request too long; cutting events shorter",
				"events", len(forgotten), "max_event_length", budget)
			budget = max(budget/4, 100)
		default:
			return "", fmt.Errorf("summarise %d events: %w", len(forgotten), err)
		}
	}
	return strings.TrimSpace(previous + "\n\n" + droppedNote), nil
}

// summaryPrompt is our request for a summary: what the agent must not lose, the previous summary
// and the forgotten events, each cut to budget characters.
func summaryPrompt(previous string, forgotten []*events.Event, budget int) string {
	var b strings.Builder
	b.WriteString(`You are keeping the memory of a software agent that works on a task for a user. The events below are about to be removed from the agent's context. Write a summary that lets the agent carry on without them; it replaces the previous summary, so keep what still matters from it.

Cover, in short sections:
USER_CONTEXT: what the user asked for, with requirements and preferences.
PROGRESS: what is done, what is left, and what the agent was in the middle of.
CODE_STATE: files created or changed (exact paths), important functions and data structures, decisions taken.
TESTS: what was run and its outcome; failing tests and error messages that still matter.
ENVIRONMENT: installed dependencies, running processes, version control state, anything else set up.

Keep exact paths, commands, names and values. Drop what is no longer relevant. Write only the summary.
`)
	b.WriteString("\n<PREVIOUS_SUMMARY>\n")
	if previous != "" {
		b.WriteString(truncate(previous, budget*4))
	} else {
		b.WriteString("(none)")
	}
	b.WriteString("\n</PREVIOUS_SUMMARY>\n")
	for _, ev := range forgotten {
		fmt.Fprintf(&b, "\n<EVENT id=%d source=%s type=%s>\n", ev.ID, ev.Source, ev.Type())
		b.WriteString(truncate(eventText(ev), budget))
		b.WriteString("\n</EVENT>\n")
	}
	return b.String()
}

// eventText is an event as the summarising model reads it: an observation's text, or an action's
// arguments.
func eventText(ev *events.Event) string {
	switch o := ev.Observation.(type) {
	case nil:
	case *events.CmdOutputObservation:
		return "$ " + o.Command + "\n" + renderRun(o)
	default:
		return ev.Content()
	}
	switch a := ev.Action.(type) {
	case *events.MessageAction:
		return a.Content
	case *events.CmdRunAction:
		return strings.TrimSpace(a.Thought + "\n$ " + a.Command)
	case *events.AgentThinkAction:
		return a.Thought
	}
	args, err := json.Marshal(ev.Action)
	if err != nil {
		return ev.Message()
	}
	return string(args)
}
