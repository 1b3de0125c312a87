package codeact

import (
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// bashTool runs commands in the sandbox's persistent shell (a run action).
var bashTool = tool{
	name: toolBash,
	description: `Run a bash command in the sandbox's shell.
* The shell is persistent: the working directory, environment variables and anything you source carry over from one call to the next.
* Send one command per call. Steps that belong together may be chained with && or ;, but do not batch unrelated work.
* Programs that never end on their own (servers, watchers) must run in the background with their output in a file, e.g. python3 app.py > app.log 2>&1 &
* A command that is still running when its output comes back reports exit code -1. Then call again with an empty command to read more output, with is_input set to "true" to type into the process, or with C-c to interrupt it.
* Set timeout for commands you expect to be slow (builds, test suites, installs); the command is interrupted when it runs out.
* There is no terminal for full-screen programs: do not start vim, nano, less or top, and give programs that might prompt a non-interactive flag (-y, --no-pager).
* Very long output is cut in the middle; filter it with grep, head or tail.`,
	parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "command": {
      "type": "string",
      "description": "The command to run. An empty string fetches more output of the command that is still running. With is_input \"true\", the text to send to that process; control keys are written C-c, C-d and C-z."
    },
    "is_input": {
      "type": "string",
      "description": "\"true\" to send command to the process that is still running instead of starting a new command. Defaults to \"false\".",
      "enum": ["true", "false"]
    },
    "timeout": {
      "type": "number",
      "description": "Optional hard limit in seconds after which the command is interrupted. Without it, a command that stops producing output for a while returns early with exit code -1 and keeps running."
    }
  },
  "required": ["command"]
}`),
	toAction: bashAction,
}

func bashAction(args arguments) (events.Action, *float64, error) {
	command, err := args.requireString("command")
	if err != nil {
		return nil, nil, err
	}
	// OpenHands compares with the string "true"; a JSON true means the same to the model.
	isInput := false
	if args.present("is_input") {
		v := string(args.m["is_input"])
		isInput = v == `"true"` || v == "true"
	}
	timeout, err := args.optNumber("timeout")
	if err != nil {
		return nil, nil, err
	}
	if timeout != nil && *timeout < 0 {
		return nil, nil, args.wrongType("timeout", "a positive number of seconds")
	}
	return &events.CmdRunAction{
		Command:           command,
		IsInput:           isInput,
		Blocking:          timeout != nil, // a hard timeout the agent asked for blocks until it
		ConfirmationState: events.ConfirmationConfirmed,
	}, timeout, nil
}
