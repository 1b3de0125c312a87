package codeact

import (
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// requestCondensationTool lets the model ask for its history to be shortened (a
// condensation_request action, handled by the condenser at the next step).
var requestCondensationTool = tool{
	name:        toolRequestCondensation,
	description: `Ask for the conversation so far to be condensed, when it has grown long and the older details are no longer needed. Older events are summarized or dropped; the task and the most recent events stay.`,
	parameters: json.RawMessage(`{
  "type": "object",
  "properties": {},
  "required": []
}`),
	toAction: func(arguments) (events.Action, *float64, error) {
		return &events.CondensationRequestAction{}, nil, nil
	},
}
