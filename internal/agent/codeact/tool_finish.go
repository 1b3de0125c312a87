package codeact

import (
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// finishTool ends the task (a finish action).
var finishTool = tool{
	name:        toolFinish,
	description: `End your turn: the task is done, or you cannot go further without the user. Give a short account of what you did, what you verified and anything left open, and say honestly whether the task is complete.`,
	parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "message": {
      "type": "string",
      "description": "Your final message to the user: what was done, how it was checked, and what remains."
    },
    "task_completed": {
      "type": "string",
      "description": "\"true\" if the task is fully done, \"partial\" if only part of it is, \"false\" if it could not be done.",
      "enum": ["true", "false", "partial"]
    }
  },
  "required": ["message", "task_completed"]
}`),
	toAction: finishAction,
}

func finishAction(args arguments) (events.Action, *float64, error) {
	message, err := args.requireString("message")
	if err != nil {
		return nil, nil, err
	}
	completed, err := args.optText("task_completed")
	if err != nil {
		return nil, nil, err
	}
	if completed == nil {
		return nil, nil, args.missing("task_completed")
	}
	return &events.AgentFinishAction{FinalThought: message, TaskCompleted: completed, Outputs: events.RawJSON("{}")}, nil, nil
}
