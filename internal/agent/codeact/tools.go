package codeact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// tool is one function the model may call. Each lives in its own tool_*.go file with its
// description, its parameter schema and its mapping side by side. The descriptions are ours; the
// schemas are wire contracts (parameter names, types, enums and required lists as OpenHands 0.50
// sends them), because trajectories recorded by one backend are replayed and continued by the other.
type tool struct {
	name        string
	description string
	parameters  json.RawMessage
	// toAction turns a call's arguments into an action and, for execute_bash, a hard timeout in
	// seconds. Errors are *agent.MalformedActionError.
	toAction func(args arguments) (events.Action, *float64, error)
}

// Tool names, as the model sees them and as tool_call_metadata.function_name records them.
const (
	toolBash                = "execute_bash"
	toolThink               = "think"
	toolFinish              = "finish"
	toolRequestCondensation = "request_condensation"
	toolEditor              = "str_replace_editor"
)

// toolsFor lists the tools enabled by cfg, in OpenHands' order. The browser and
// execute_ipython_cell tools are never offered: the gohands sandbox has neither a browser nor a
// Jupyter kernel, and a tool that always fails only wastes the model's turns. The LLM-based
// edit_file tool is not implemented; enable_llm_editor falls back to str_replace_editor.
func toolsFor(cfg config.Agent) []tool {
	var ts []tool
	if cfg.EnableCmd {
		ts = append(ts, bashTool)
	}
	if cfg.EnableThink {
		ts = append(ts, thinkTool)
	}
	if cfg.EnableFinish {
		ts = append(ts, finishTool)
	}
	if cfg.EnableCondensationRequest {
		ts = append(ts, requestCondensationTool)
	}
	if cfg.EnableEditor || cfg.EnableLLMEditor {
		ts = append(ts, editorTool)
	}
	return ts
}

// llmTools is the tool list of a request.
func llmTools(ts []tool) []llm.Tool {
	out := make([]llm.Tool, len(ts))
	for i, t := range ts {
		out[i] = llm.Tool{Name: t.name, Description: t.description, Parameters: t.parameters}
	}
	return out
}

// systemTools is the tool list of the system event: OpenAI's
// {"type": "function", "function": {name, description, parameters}} objects.
func systemTools(ts []tool) []events.RawJSON {
	type function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	type wrapper struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	out := make([]events.RawJSON, 0, len(ts))
	for _, t := range ts {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // descriptions hold `&&` and `>`; keep them readable on disk
		if err := enc.Encode(wrapper{"function", function{t.name, t.description, t.parameters}}); err != nil {
			panic(fmt.Sprintf("codeact: tool %s does not encode: %v", t.name, err)) // static data
		}
		out = append(out, events.RawJSON(bytes.TrimSpace(buf.Bytes())))
	}
	return out
}

func toolNames(ts []tool) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// arguments are a tool call's decoded JSON object, read key by key with type checks so that a
// model's mistake becomes a message it can act on.
type arguments struct {
	tool string
	m    map[string]json.RawMessage
}

func malformed(format string, a ...any) error {
	return &agent.MalformedActionError{Msg: fmt.Sprintf(format, a...)}
}

// parseArguments decodes a call's arguments. An empty string counts as no arguments (some models
// send it for tools without parameters).
func parseArguments(toolName, raw string) (arguments, error) {
	args := arguments{tool: toolName, m: map[string]json.RawMessage{}}
	if strings.TrimSpace(raw) == "" {
		return args, nil
	}
	if err := json.Unmarshal([]byte(raw), &args.m); err != nil || args.m == nil {
		return args, malformed("The arguments of the %s call are not a JSON object (%s). Arguments received: %s",
			toolName, jsonProblem(err), clip(raw, 500))
	}
	return args, nil
}

func jsonProblem(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// present reports whether key was given with a non-null value.
func (a arguments) present(key string) bool {
	v, ok := a.m[key]
	return ok && !isNull(v)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (a arguments) missing(key string) error {
	return malformed("Missing required argument %q in the %s call.", key, a.tool)
}

func (a arguments) wrongType(key, want string) error {
	return malformed("Argument %q of the %s call must be %s, got %s.", key, a.tool, want, clip(string(a.m[key]), 200))
}

// requireString returns a required string argument.
func (a arguments) requireString(key string) (string, error) {
	s, err := a.optString(key)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", a.missing(key)
	}
	return *s, nil
}

// optString returns a string argument, nil when absent or null.
func (a arguments) optString(key string) (*string, error) {
	if !a.present(key) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(a.m[key], &s); err != nil {
		return nil, a.wrongType(key, "a string")
	}
	return &s, nil
}

// optText returns a string argument, accepting any other scalar as its JSON text (models send
// task_completed: true as often as "true").
func (a arguments) optText(key string) (*string, error) {
	if !a.present(key) {
		return nil, nil
	}
	if s, err := a.optString(key); err == nil {
		return s, nil
	}
	v := bytes.TrimSpace(a.m[key])
	if v[0] == '{' || v[0] == '[' {
		return nil, a.wrongType(key, "a string")
	}
	s := string(v)
	return &s, nil
}

// optNumber returns a number argument (a JSON number or a numeric string), nil when absent.
func (a arguments) optNumber(key string) (*float64, error) {
	if !a.present(key) {
		return nil, nil
	}
	raw := a.m[key]
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, a.wrongType(key, "a number")
		}
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, a.wrongType(key, "a number")
		}
	}
	return &f, nil
}

// optInt returns an integer argument (a whole JSON number or a numeric string), nil when absent.
func (a arguments) optInt(key string) (*int, error) {
	f, err := a.optNumber(key)
	if err != nil || f == nil {
		if err != nil {
			err = a.wrongType(key, "an integer")
		}
		return nil, err
	}
	if *f != math.Trunc(*f) || math.Abs(*f) > math.MaxInt32 {
		return nil, a.wrongType(key, "an integer")
	}
	n := int(*f)
	return &n, nil
}

// optIntList returns an array-of-integers argument, nil when absent.
func (a arguments) optIntList(key string) ([]int, error) {
	if !a.present(key) {
		return nil, nil
	}
	var fs []float64
	if err := json.Unmarshal(a.m[key], &fs); err != nil {
		return nil, a.wrongType(key, "an array of integers")
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return nil, a.wrongType(key, "an array of integers")
		}
		out[i] = int(f)
	}
	return out, nil
}

// rejectUnknown fails on any key outside allowed.
func (a arguments) rejectUnknown(allowed ...string) error {
	var unknown []string
	for k := range a.m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return malformed("Unexpected argument %q in the %s call. Allowed arguments: %s.",
		unknown[0], a.tool, strings.Join(allowed, ", "))
}

// oneOf checks an enumerated string argument.
func (a arguments) oneOf(key, value string, allowed ...string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return malformed("Argument %q of the %s call must be one of %s, got %q.",
		key, a.tool, strings.Join(allowed, ", "), value)
}
