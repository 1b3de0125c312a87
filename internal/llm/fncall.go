package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Tool calling for models without native function calling. The tools are described at the end of
// the system prompt, earlier calls are written into the assistant text, results come back as user
// messages, and the model's reply is parsed for a call. The wire format is OpenHands' (its
// fn_call_converter), so models tuned for OpenHands recognise it:
//
//	<function=name>
//	<parameter=x>value</parameter>
//	</function>
//
// and a result is a user message starting "EXECUTION RESULT of [name]:".

// textProtocolStop ends generation after a call (OpenHands' stop word).
const textProtocolStop = "</function"

const toolResultPrefix = "EXECUTION RESULT of [%s]:\n"

var (
	textCallRe  = regexp.MustCompile(`(?s)<function=([^>\n]+)>\n?(.*?)</function>`)
	textParamRe = regexp.MustCompile(`(?s)<parameter=([^>\n]+)>(.*?)</parameter>`)
)

// toolSchema is the part of a tool's JSON Schema the text protocol needs.
type toolSchema struct {
	Properties orderedProps `json:"properties"`
	Required   []string     `json:"required"`
}

type propSchema struct {
	Type        any    `json:"type"`
	Description string `json:"description"`
	Enum        []any  `json:"enum"`
}

// orderedProps keeps the schema's property order, which is the order the model is told about.
type orderedProps struct {
	names []string
	props map[string]propSchema
}

func (o *orderedProps) UnmarshalJSON(b []byte) error {
	o.props = map[string]propSchema{}
	if err := json.Unmarshal(b, &o.props); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		o.names = append(o.names, name)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

func parseToolSchema(raw json.RawMessage) (toolSchema, bool) {
	var s toolSchema
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return toolSchema{}, false
	}
	return s, true
}

func (p propSchema) typeName() string {
	switch t := p.Type.(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return "string"
}

// describeTools lists the tools for the system prompt.
func describeTools(tools []Tool) string {
	var b strings.Builder
	for i, t := range tools {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Function %d: %s\nDescription: %s\n", i+1, t.Name, strings.TrimSpace(t.Description))
		s, ok := parseToolSchema(t.Parameters)
		if !ok || len(s.Properties.names) == 0 {
			b.WriteString("Parameters: none.\n")
			continue
		}
		b.WriteString("Parameters:\n")
		for _, name := range s.Properties.names {
			p := s.Properties.props[name]
			need := "optional"
			for _, r := range s.Required {
				if r == name {
					need = "required"
				}
			}
			desc := strings.TrimSpace(p.Description)
			if desc == "" {
				desc = "(no description)"
			}
			fmt.Fprintf(&b, "- %s (%s, %s): %s\n", name, p.typeName(), need, desc)
			if len(p.Enum) > 0 {
				vals := make([]string, len(p.Enum))
				for i, v := range p.Enum {
					vals[i] = fmt.Sprintf("`%v`", v)
				}
				fmt.Fprintf(&b, "  Allowed values: %s\n", strings.Join(vals, ", "))
			}
		}
	}
	return b.String()
}

func systemSuffix(tools []Tool) string {
	return `

You can call the functions described below.

` + describeTools(tools) + `
To call a function, end your reply with a call in exactly this form, with nothing after it:

<function=function_name>
<parameter=parameter_name>value</parameter>
<parameter=another_parameter>
a value may span
several lines
</parameter>
</function>

Rules:
- A call starts with <function= and ends with </function>.
- Give every required parameter.
- Make at most one call per reply.
- You may explain your reasoning before the call, never after it.
- When no function is needed, answer in plain text without mentioning functions.
`
}

// inContextExample reports whether the model gets a worked example of the format (OpenHands
// leaves it out for models trained on it).
func inContextExample(model string) bool {
	return !strings.Contains(model, "openhands-lm") && !strings.Contains(model, "devstral")
}

// exampleFor writes a short worked example using the tools present among execute_bash,
// str_replace_editor and finish; "" when none is.
func exampleFor(tools []Tool) (prefix, suffix string) {
	has := map[string]bool{}
	for _, t := range tools {
		has[t.Name] = true
	}
	if !has["execute_bash"] && !has["str_replace_editor"] && !has["finish"] {
		return "", ""
	}
	var b strings.Builder
	b.WriteString("Here is an example of the format in use.\n\n--- EXAMPLE START ---\n")
	b.WriteString("USER: Add a hello() function to the project's main.py.\n\n")
	if has["execute_bash"] {
		b.WriteString("ASSISTANT: Let me find the file first.\n<function=execute_bash>\n<parameter=command>ls /workspace</parameter>\n</function>\n\n")
		b.WriteString("USER: " + fmt.Sprintf(toolResultPrefix, "execute_bash") + "main.py  util.py\n\n")
	}
	if has["str_replace_editor"] {
		b.WriteString("ASSISTANT: I'll add the function after the imports.\n<function=str_replace_editor>\n" +
			"<parameter=command>str_replace</parameter>\n<parameter=path>/workspace/main.py</parameter>\n" +
			"<parameter=old_str>import sys</parameter>\n<parameter=new_str>\nimport sys\n\n\ndef hello():\n    print(\"hello\")\n</parameter>\n</function>\n\n")
		b.WriteString("USER: " + fmt.Sprintf(toolResultPrefix, "str_replace_editor") + "The file /workspace/main.py has been edited.\n\n")
	}
	if has["finish"] {
		b.WriteString("ASSISTANT: The function is in place.\n<function=finish>\n<parameter=message>Added hello() to main.py.</parameter>\n<parameter=task_completed>true</parameter>\n</function>\n")
	}
	b.WriteString("--- EXAMPLE END ---\n\nThe example's files and results were made up; do not assume them.\n\n--- TASK START ---\n")
	return b.String(), "\n--- TASK END ---\n\nFollow the format exactly, and make at most one function call per reply.\n"
}

// toTextProtocol rewrites a native tool-calling conversation for a model without tool calling.
func toTextProtocol(msgs []Message, tools []Tool, example bool) []Message {
	suffix := systemSuffix(tools)
	exPrefix, exSuffix := "", ""
	if example {
		exPrefix, exSuffix = exampleFor(tools)
	}
	firstUser := true
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			m.Content = appendText(m.Content, suffix)
		case RoleUser:
			if firstUser && exPrefix != "" {
				m.Content = wrapFirstText(m.Content, exPrefix, exSuffix)
			}
			firstUser = false
		case RoleAssistant:
			if len(m.ToolCalls) > 0 {
				var calls []string
				for _, tc := range m.ToolCalls {
					calls = append(calls, renderTextCall(tc))
				}
				text := strings.TrimLeft(textOf(m.Content)+"\n\n"+strings.Join(calls, "\n\n"), "\n ")
				m.Content = []ContentPart{{Type: "text", Text: text, CacheControl: hasCacheMark(m.Content)}}
				m.ToolCalls = nil
			}
		case RoleTool:
			name := m.Name
			if name == "" {
				name = "function"
			}
			m.Content = prefixFirstText(m.Content, fmt.Sprintf(toolResultPrefix, name))
			m.Role, m.ToolCallID, m.Name = RoleUser, "", ""
		}
		out = append(out, m)
	}
	return out
}

func hasCacheMark(parts []ContentPart) bool {
	for _, p := range parts {
		if p.CacheControl {
			return true
		}
	}
	return false
}

func appendText(parts []ContentPart, s string) []ContentPart {
	if n := len(parts); n > 0 && (parts[n-1].Type == "text" || parts[n-1].Type == "") {
		parts[n-1].Text += s
		return parts
	}
	return append(parts, ContentPart{Type: "text", Text: s})
}

func prefixFirstText(parts []ContentPart, s string) []ContentPart {
	for i := range parts {
		if parts[i].Type == "text" || parts[i].Type == "" {
			parts[i].Text = s + parts[i].Text
			return parts
		}
	}
	return append([]ContentPart{{Type: "text", Text: s}}, parts...)
}

func wrapFirstText(parts []ContentPart, prefix, suffix string) []ContentPart {
	if len(parts) > 0 && (parts[0].Type == "text" || parts[0].Type == "") {
		parts[0].Text = prefix + parts[0].Text + suffix
		return parts
	}
	out := append([]ContentPart{{Type: "text", Text: prefix}}, parts...)
	return append(out, ContentPart{Type: "text", Text: suffix})
}

// renderTextCall writes an earlier call in the text format; multi-line values get their own lines.
func renderTextCall(tc ToolCall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<function=%s>\n", tc.Name)
	args, ok := orderedArgs(tc.Arguments)
	if !ok {
		// Not a JSON object: hand the model what it wrote, so the history stays truthful.
		fmt.Fprintf(&b, "%s\n", tc.Arguments)
	}
	for _, a := range args {
		var val string
		if err := json.Unmarshal(a.value, &val); err != nil {
			val = string(a.value) // numbers, booleans, arrays, objects: their JSON
		}
		multi := strings.Contains(val, "\n")
		fmt.Fprintf(&b, "<parameter=%s>", a.name)
		if multi {
			b.WriteString("\n")
		}
		b.WriteString(val)
		if multi {
			b.WriteString("\n")
		}
		b.WriteString("</parameter>\n")
	}
	b.WriteString("</function>")
	return b.String()
}

type argValue struct {
	name  string
	value json.RawMessage
}

// orderedArgs splits a JSON object into its members, in order.
func orderedArgs(s string) ([]argValue, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []argValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, argValue{name, v})
	}
	return out, true
}

// countTextToolCalls counts the calls already written into assistant text, to number the next.
func countTextToolCalls(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		if m.Role == RoleAssistant {
			n += len(textCallRe.FindAllStringIndex(textOf(m.Content), -1))
		}
	}
	return n
}

// fixStopWord closes a call the stop word cut short ("…</" or nothing at all).
func fixStopWord(s string) string {
	if strings.Count(s, "<function=") != 1 || strings.Contains(s[strings.Index(s, "<function="):], "</function>") {
		return s
	}
	if strings.HasSuffix(s, "</") {
		return s + "function>"
	}
	return s + "\n</function>"
}

// parseTextToolCall finds the first call in a reply; it returns the text before it and the call
// with id toolu_NN (NN = seq). Values are typed by the tool's schema (integer, number, boolean,
// array, object); anything else stays a string. Unknown tools and parameters are passed on for
// the agent to reject, as it does for native calls.
func parseTextToolCall(content string, tools []Tool, seq int) (string, []ToolCall) {
	fixed := fixStopWord(content)
	m := textCallRe.FindStringSubmatchIndex(fixed)
	if m == nil {
		return content, nil
	}
	name := strings.TrimSpace(fixed[m[2]:m[3]])
	body := fixed[m[4]:m[5]]
	var schema toolSchema
	for _, t := range tools {
		if t.Name == name {
			schema, _ = parseToolSchema(t.Parameters)
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for i, pm := range textParamRe.FindAllStringSubmatch(body, -1) {
		pname := strings.TrimSpace(pm[1])
		val := trimOneNewline(pm[2])
		if i > 0 {
			b.WriteString(", ")
		}
		key, _ := json.Marshal(pname)
		b.Write(key)
		b.WriteString(": ")
		b.Write(typedValue(val, schema.Properties.props[pname].typeName()))
	}
	b.WriteString("}")
	text := strings.TrimSpace(fixed[:strings.Index(fixed, "<function=")])
	return text, []ToolCall{{ID: fmt.Sprintf("toolu_%02d", seq), Name: name, Arguments: b.String()}}
}

// trimOneNewline undoes the line breaks renderTextCall puts around multi-line values.
func trimOneNewline(s string) string {
	s = strings.TrimPrefix(s, "\n")
	return strings.TrimSuffix(s, "\n")
}

func typedValue(val, typ string) []byte {
	trimmed := strings.TrimSpace(val)
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
			return []byte(strconv.FormatInt(n, 10))
		}
	case "number":
		if f, err := strconv.ParseFloat(trimmed, 64); err == nil {
			b, _ := json.Marshal(f)
			return b
		}
	case "boolean":
		if v, err := strconv.ParseBool(trimmed); err == nil {
			return []byte(strconv.FormatBool(v))
		}
	case "array", "object":
		if json.Valid([]byte(trimmed)) {
			return []byte(trimmed)
		}
	}
	b, _ := json.Marshal(val)
	return b
}
