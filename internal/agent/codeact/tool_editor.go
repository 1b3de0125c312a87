package codeact

import (
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// editorTool views and edits files (oh_aci read and edit actions, run by the sandbox's editor).
var editorTool = tool{
	name: toolEditor,
	description: `View, create and edit plain-text files. Use it, not the shell, for reading and changing files.
* view: a file is shown with line numbers, like cat -n; a directory lists its files and folders two levels deep, hidden ones left out. view_range shows part of a long file.
* create: writes a new file with file_text. It fails if the file already exists.
* str_replace: replaces old_str with new_str. old_str must match the file exactly once, whitespace and indentation included; add neighbouring lines until it is unique. Leaving out new_str deletes old_str.
* insert: inserts new_str after line insert_line (0 inserts at the top).
* undo_edit: reverts the last edit made to path.
* Paths are absolute, e.g. /workspace/main.py. Long output is clipped.
* The editor keeps its edit history for the whole conversation.`,
	parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "command": {
      "type": "string",
      "description": "What to do: view, create, str_replace, insert or undo_edit.",
      "enum": ["view", "create", "str_replace", "insert", "undo_edit"]
    },
    "path": {
      "type": "string",
      "description": "Absolute path of the file or directory, e.g. /workspace/main.py or /workspace."
    },
    "file_text": {
      "type": "string",
      "description": "The whole content of the new file (create)."
    },
    "old_str": {
      "type": "string",
      "description": "The exact text to replace (str_replace); it must occur exactly once in the file."
    },
    "new_str": {
      "type": "string",
      "description": "The replacement text (str_replace, optional) or the text to insert (insert, required)."
    },
    "insert_line": {
      "type": "integer",
      "description": "The line after which new_str is inserted (insert); 0 inserts at the top."
    },
    "view_range": {
      "type": "array",
      "description": "Lines to show (view of a file): [first, last], numbered from 1; [first, -1] shows everything from first to the end.",
      "items": {"type": "integer"}
    }
  },
  "required": ["command", "path"]
}`),
	toAction: editorAction,
}

var editorParams = []string{"command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"}

func editorAction(args arguments) (events.Action, *float64, error) {
	command, err := args.requireString("command")
	if err != nil {
		return nil, nil, err
	}
	path, err := args.requireString("path")
	if err != nil {
		return nil, nil, err
	}
	if err := args.oneOf("command", command, "view", "create", "str_replace", "insert", "undo_edit"); err != nil {
		return nil, nil, err
	}
	if err := args.rejectUnknown(editorParams...); err != nil {
		return nil, nil, err
	}
	if command == "view" {
		viewRange, err := args.optIntList("view_range")
		if err != nil {
			return nil, nil, err
		}
		return &events.FileReadAction{Path: path, End: -1, ImplSource: events.ImplSourceOHACI, ViewRange: viewRange}, nil, nil
	}
	// view_range is meaningless here; OpenHands drops it silently, so do we.
	a := &events.FileEditAction{Path: path, Command: command, Start: 1, End: -1, ImplSource: events.ImplSourceOHACI}
	if a.FileText, err = args.optString("file_text"); err != nil {
		return nil, nil, err
	}
	if a.OldStr, err = args.optString("old_str"); err != nil {
		return nil, nil, err
	}
	if a.NewStr, err = args.optString("new_str"); err != nil {
		return nil, nil, err
	}
	if a.InsertLine, err = args.optInt("insert_line"); err != nil {
		return nil, nil, err
	}
	return a, nil, nil
}
