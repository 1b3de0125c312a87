package codeact

import (
	"fmt"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// step is one action the agent will return, with what the controller attaches to its event.
type step struct {
	action events.Action
	info   *agent.StepInfo
}

// responseToActions turns one LLM turn into the actions it asks for, in call order (OpenHands'
// response_to_actions). The assistant's text becomes the thought of the first action; every action
// carries the tool call's metadata with the whole response. Without tool calls the text is a
// message to the user that waits for an answer. Any bad call fails the whole turn, so that no
// half of a response runs.
func responseToActions(resp *llm.Response, tools []tool, model string) ([]step, error) {
	if len(resp.ToolCalls) == 0 {
		return []step{{
			action: &events.MessageAction{Content: resp.Content, WaitForResponse: true},
			info:   &agent.StepInfo{},
		}}, nil
	}
	raw := responseJSON(resp, model)
	steps := make([]step, 0, len(resp.ToolCalls))
	for i, call := range resp.ToolCalls {
		t, ok := findTool(tools, call.Name)
		if !ok {
			return nil, &agent.FunctionCallNotExistsError{Msg: fmt.Sprintf(
				"The tool %q does not exist. Call one of the available tools instead: %s.", call.Name, toolNames(tools))}
		}
		args, err := parseArguments(call.Name, call.Arguments)
		if err != nil {
			return nil, err
		}
		action, timeout, err := t.toAction(args)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			addThought(action, resp.Content)
		}
		steps = append(steps, step{action: action, info: &agent.StepInfo{
			ToolCallMetadata: &events.ToolCallMetadata{
				FunctionName:         call.Name,
				ToolCallID:           call.ID,
				ModelResponse:        raw,
				TotalCallsInResponse: len(resp.ToolCalls),
			},
			Timeout: timeout,
		}})
	}
	return steps, nil
}

func findTool(tools []tool, name string) (tool, bool) {
	for _, t := range tools {
		if t.name == name {
			return t, true
		}
	}
	return tool{}, false
}

// addThought puts the assistant's text in front of an action's own thought.
func addThought(a events.Action, text string) {
	if text == "" {
		return
	}
	var thought *string
	switch a := a.(type) {
	case *events.CmdRunAction:
		thought = &a.Thought
	case *events.FileReadAction:
		thought = &a.Thought
	case *events.FileEditAction:
		thought = &a.Thought
	case *events.AgentThinkAction:
		thought = &a.Thought
	case *events.AgentFinishAction:
		thought = &a.Thought
	default:
		return // condensation_request has no thought
	}
	if *thought == "" {
		*thought = text
	} else {
		*thought = text + "\n" + *thought
	}
}
