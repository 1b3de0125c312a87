package codeact

import (
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// thinkTool lets the model reason in the open without acting (a think action).
var thinkTool = tool{
	name:        toolThink,
	description: `Write down your reasoning without acting: weigh approaches, plan the next steps, work out what an error or a test failure means, or check that a change covers every case. Nothing runs and nothing changes; the note is only logged. Use it when a problem needs thought before the next command.`,
	parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "thought": {
      "type": "string",
      "description": "The reasoning to record."
    }
  },
  "required": ["thought"]
}`),
	toAction: thinkAction,
}

func thinkAction(args arguments) (events.Action, *float64, error) {
	thought, err := args.requireString("thought")
	if err != nil {
		return nil, nil, err
	}
	return &events.AgentThinkAction{Thought: thought}, nil, nil
}
