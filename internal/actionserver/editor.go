package actionserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The str_replace_editor of OpenHands 0.50 (openhands-aci 0.3.1's OHEditor): the commands view,
// create, str_replace, insert and undo_edit on absolute paths, with the texts the agent was
// prompted with. Files are read with universal newlines, as Python's text mode does.

const (
	// editorMaxOutput is the number of characters of a file or listing shown before clipping.
	editorMaxOutput = 16000
	// editorSnippetContext is the number of lines shown around an edit.
	editorSnippetContext = 4
	// editorMaxFileSize is the largest file the editor reads or edits.
	editorMaxFileSize = 10 * 1024 * 1024
	// editorHistoryDepth is the number of undo steps kept per file.
	editorHistoryDepth = 10
)

// editorCommands are the commands in the order the unknown-command error lists them.
var editorCommands = []string{"view", "create", "str_replace", "insert", "undo_edit"}

// editorConvertedExtensions are the files OpenHands converts to Markdown for view and refuses to
// edit.
var editorConvertedExtensions = []string{".docx", ".xlsx", ".pptx", ".pdf", ".mp3", ".wav", ".m4a", ".flac"}

// editorError is a failure the agent sees as "ERROR:\n" followed by its text.
type editorError string

func (e editorError) Error() string { return string(e) }

func editorMissingParam(command, param string) error {
	return editorError(fmt.Sprintf("Parameter `%s` is required for command: %s.", param, command))
}

func editorInvalidParam(param, value, hint string) error {
	if hint == "" {
		return editorError(fmt.Sprintf("Invalid `%s` parameter: %s.", param, value))
	}
	return editorError(fmt.Sprintf("Invalid `%s` parameter: %s. %s", param, value, hint))
}

func editorValidationFailed(path, reason string) error {
	return editorError(fmt.Sprintf("File validation failed for %s: %s", path, reason))
}

// editorRequest is one editor call; nil pointers are parameters the agent did not give.
type editorRequest struct {
	command    string
	path       string
	fileText   *string
	oldStr     *string
	newStr     *string
	insertLine *int
	viewRange  []int
}

// editorResult is what a successful command returns: its output for the agent and the file text
// before and after ("" for both when nothing changed), from which the edit diff is made.
type editorResult struct {
	output     string
	oldContent string
	newContent string
}

// strReplaceEditor runs editor commands.
type strReplaceEditor struct {
	workspaceRoot string
	allowed       func(string) bool

	// mu serialises commands, so an edit never interleaves with another on the same file, and
	// guards history.
	mu      sync.Mutex
	history *editorHistory
}

func newStrReplaceEditor(workspaceRoot string, allowed func(string) bool) *strReplaceEditor {
	return &strReplaceEditor{workspaceRoot: workspaceRoot, allowed: allowed, history: newEditorHistory(editorHistoryDepth)}
}

func (e *strReplaceEditor) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.history.close()
}

// run executes one command. An error is always an editorError.
func (e *strReplaceEditor) run(req editorRequest) (editorResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	path := filesPurePath(req.path)
	if err := e.validatePath(req.command, path); err != nil {
		return editorResult{}, err
	}
	switch req.command {
	case "view":
		out, err := e.view(path, req.viewRange)
		return editorResult{output: out}, err
	case "create":
		if req.fileText == nil {
			return editorResult{}, editorMissingParam(req.command, "file_text")
		}
		return e.create(path, *req.fileText)
	case "str_replace":
		if req.oldStr == nil {
			return editorResult{}, editorMissingParam(req.command, "old_str")
		}
		if req.newStr != nil && *req.newStr == *req.oldStr {
			return editorResult{}, editorInvalidParam("new_str", *req.newStr,
				"No replacement was performed. `new_str` and `old_str` must be different.")
		}
		newStr := ""
		if req.newStr != nil {
			newStr = *req.newStr
		}
		return e.strReplace(path, *req.oldStr, newStr)
	case "insert":
		if req.insertLine == nil {
			return editorResult{}, editorMissingParam(req.command, "insert_line")
		}
		if req.newStr == nil {
			return editorResult{}, editorMissingParam(req.command, "new_str")
		}
		return e.insert(path, *req.insertLine, *req.newStr)
	case "undo_edit":
		return e.undo(path)
	}
	return editorResult{}, editorError(fmt.Sprintf(
		"Unrecognized command %s. The allowed commands for the oh_editor tool are: %s",
		req.command, strings.Join(editorCommands, ", ")))
}

// validatePath checks that path is absolute and fits the command.
func (e *strReplaceEditor) validatePath(command, path string) error {
	if !filesPurePathIsAbs(path) {
		hint := "The path should be an absolute path, starting with `/`."
		if e.workspaceRoot != "" {
			suggested := filesPurePath(e.workspaceRoot + "/" + path)
			if e.allowed(suggested) && editorExists(suggested) {
				hint += fmt.Sprintf(" Maybe you meant %s?", suggested)
			}
		}
		return editorInvalidParam("path", path, hint)
	}
	exists := editorExists(path)
	if command == "create" && exists {
		return editorInvalidParam("path", path, fmt.Sprintf(
			"File already exists at: %s. Cannot overwrite files using command `create`.", path))
	}
	if command != "create" && !exists {
		return editorInvalidParam("path", path, fmt.Sprintf(
			"The path %s does not exist. Please provide a valid path.", path))
	}
	if command != "view" {
		if editorIsDir(path) {
			return editorInvalidParam("path", path, fmt.Sprintf(
				"The path %s is a directory and only the `view` command can be used on directories.", path))
		}
		if editorIsConverted(path) {
			return editorInvalidParam("path", path, fmt.Sprintf(
				"The path %s points to a binary file (%s) and only the `view` command can be used on supported binary files.",
				path, editorSuffix(path)))
		}
	}
	return nil
}

func (e *strReplaceEditor) create(path, text string) (editorResult, error) {
	if err := editorWriteFile(path, text, editorEncoding{}); err != nil {
		return editorResult{}, err
	}
	if err := e.history.add(path, text); err != nil {
		return editorResult{}, editorError(fmt.Sprintf("File created at %s, but its undo history could not be saved: %v", path, err))
	}
	return editorResult{output: "File created successfully at: " + path, newContent: text}, nil
}

func (e *strReplaceEditor) strReplace(path, oldStr, newStr string) (editorResult, error) {
	text, enc, err := editorReadFile(path)
	if err != nil {
		return editorResult{}, err
	}
	starts := editorOccurrences(text, oldStr)
	if len(starts) == 0 {
		return editorResult{}, editorError(fmt.Sprintf(
			"No replacement was performed, old_str `%s` did not appear verbatim in %s.", oldStr, path))
	}
	if len(starts) > 1 {
		var lines []int
		if oldStr == "" {
			// Every position matches: every line, and the one after a final newline.
			for l := range strings.Count(text, "\n") + 1 {
				lines = append(lines, l+1)
			}
		} else {
			lines = editorLineNumbers(text, starts)
		}
		return editorResult{}, editorError(fmt.Sprintf(
			"No replacement was performed. Multiple occurrences of old_str `%s` in lines %s. Please ensure it is unique.",
			oldStr, editorIntList(lines)))
	}
	idx := starts[0]
	newText := text[:idx] + newStr + text[idx+len(oldStr):]
	if err := editorWriteFile(path, newText, enc); err != nil {
		return editorResult{}, err
	}
	if err := e.history.add(path, text); err != nil {
		return editorResult{}, editorError(fmt.Sprintf("Edited %s, but its undo history could not be saved: %v", path, err))
	}

	line := strings.Count(text[:idx], "\n") + 1
	start := max(0, line-editorSnippetContext)
	end := line + editorSnippetContext + strings.Count(newStr, "\n")
	snippet := editorLineRange(newText, start+1, end)
	out := fmt.Sprintf("The file %s has been edited. ", path) +
		editorCatN(snippet, "a snippet of "+path, start+1) +
		"Review the changes and make sure they are as expected. Edit the file again if necessary."
	return editorResult{output: out, oldContent: text, newContent: newText}, nil
}

// editorOccurrences are the byte offsets of the non-overlapping matches of s in text, left to
// right. An empty s matches at every position, so only in empty text is it unique; for other
// text its first two positions are enough to say it is not.
func editorOccurrences(text, s string) []int {
	if s == "" {
		if text == "" {
			return []int{0}
		}
		return []int{0, 1}
	}
	var starts []int
	for off := 0; ; {
		i := strings.Index(text[off:], s)
		if i < 0 {
			return starts
		}
		starts = append(starts, off+i)
		off += i + len(s)
	}
}

// editorLineNumbers are the distinct 1-based lines the offsets fall on, ascending.
func editorLineNumbers(text string, offsets []int) []int {
	var lines []int
	line, pos := 1, 0
	for _, off := range offsets {
		line += strings.Count(text[pos:off], "\n")
		pos = off
		if len(lines) == 0 || lines[len(lines)-1] != line {
			lines = append(lines, line)
		}
	}
	return lines
}

// editorIntList formats ints as a Python list: "[1, 2]".
func editorIntList(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (e *strReplaceEditor) insert(path string, insertLine int, newStr string) (editorResult, error) {
	text, enc, err := editorReadFile(path)
	if err != nil {
		return editorResult{}, err
	}
	lines := filesSplitLines(text)
	n := len(lines)
	if insertLine < 0 || insertLine > n {
		return editorResult{}, editorInvalidParam("insert_line", strconv.Itoa(insertLine),
			"It should be within the range of allowed values: "+editorIntList([]int{0, n}))
	}
	newLines := strings.Split(newStr, "\n")
	var b strings.Builder
	b.Grow(len(text) + len(newStr) + len(newLines) + 1)
	for _, l := range lines[:insertLine] {
		b.WriteString(l)
	}
	// A last line without a newline gets one, so the insertion starts on a line of its own.
	// (OpenHands glues the first inserted line to it.)
	if insertLine > 0 && !strings.HasSuffix(lines[insertLine-1], "\n") {
		b.WriteString("\n")
	}
	for _, l := range newLines {
		b.WriteString(l + "\n")
	}
	for _, l := range lines[insertLine:] {
		b.WriteString(l)
	}
	newText := b.String()
	if err := editorWriteFile(path, newText, enc); err != nil {
		return editorResult{}, err
	}
	if err := e.history.add(path, text); err != nil {
		return editorResult{}, editorError(fmt.Sprintf("Edited %s, but its undo history could not be saved: %v", path, err))
	}

	start := max(0, insertLine-editorSnippetContext)
	end := min(n+len(newLines), insertLine+editorSnippetContext+len(newLines))
	snippet := editorLineRange(newText, start+1, end)
	out := fmt.Sprintf("The file %s has been edited. ", path) +
		editorCatN(snippet, "a snippet of the edited file", max(1, insertLine-editorSnippetContext+1)) +
		"Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). " +
		"Edit the file again if necessary."
	return editorResult{output: out, oldContent: text, newContent: newText}, nil
}

func (e *strReplaceEditor) undo(path string) (editorResult, error) {
	current, enc, err := editorReadFile(path)
	if err != nil {
		return editorResult{}, err
	}
	previous, ok, err := e.history.pop(path)
	if err != nil {
		return editorResult{}, editorError(fmt.Sprintf("The undo history of %s could not be read: %v", path, err))
	}
	if !ok {
		return editorResult{}, editorError(fmt.Sprintf("No edit history found for %s.", path))
	}
	if err := editorWriteFile(path, previous, enc); err != nil {
		return editorResult{}, err
	}
	out := fmt.Sprintf("Last edit to %s undone successfully. ", path) + editorCatN(previous, path, 1)
	return editorResult{output: out, oldContent: current, newContent: previous}, nil
}

// editorLineRange is lines from..to (1-based, inclusive) of text, with their newlines.
func editorLineRange(text string, from, to int) string {
	lines := filesSplitLines(text)
	from = max(from, 1)
	to = min(to, len(lines))
	if from > to {
		return ""
	}
	return strings.Join(lines[from-1:to], "")
}

func editorExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func editorIsDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// editorSuffix is pathlib's suffix: the last extension of the base name, "" for dot files.
func editorSuffix(path string) string {
	name := filepath.Base(path)
	i := strings.LastIndex(name, ".")
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return name[i:]
}

func editorIsConverted(path string) bool {
	suffix := strings.ToLower(editorSuffix(path))
	for _, ext := range editorConvertedExtensions {
		if suffix == ext {
			return true
		}
	}
	return false
}
