package memory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Type is what a microagent is for. It is inferred from the front matter, not taken from its
// "type" key, which is only validated (as OpenHands does).
type Type string

// Microagent types.
const (
	// TypeRepo is always active: its content is part of the repository instructions.
	TypeRepo Type = "repo"
	// TypeKnowledge is recalled when one of its triggers occurs in a message.
	TypeKnowledge Type = "knowledge"
	// TypeTask is a knowledge microagent with inputs, triggered by "/<name>".
	TypeTask Type = "task"
)

// Microagent is one loaded microagent. Loaded microagents are shared: treat them as read-only.
type Microagent struct {
	// Name identifies the microagent: for files of a microagents directory, the path relative to
	// that directory without ".md" ("tools/docker"); later sources replace earlier ones by name.
	Name     string
	Type     Type
	Content  string
	Triggers []string
	Inputs   []Input
	// MCPTools are MCP servers the microagent brings along (nil when it brings none).
	MCPTools *MCPTools
	Version  string
	Agent    string
	// Source is where it was read from: a host path for the global directory, the path the agent
	// sees for the workspace.
	Source string
}

// Input is a variable a task microagent asks for.
type Input struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

// MCPTools is a microagent's "mcp_tools": OpenHands' MCP configuration. Only stdio servers are
// used; a microagent that has MCP tools must have at least one.
type MCPTools struct {
	SSEServers   []MCPRemoteServer `yaml:"sse_servers" json:"sse_servers"`
	StdioServers []MCPStdioServer  `yaml:"stdio_servers" json:"stdio_servers"`
	SHTTPServers []MCPRemoteServer `yaml:"shttp_servers" json:"shttp_servers"`
}

// MCPStdioServer is an MCP server started as a process inside the sandbox.
type MCPStdioServer struct {
	Name    string            `yaml:"name" json:"name"`
	Command string            `yaml:"command" json:"command"`
	Args    []string          `yaml:"args" json:"args"`
	Env     map[string]string `yaml:"env" json:"env"`
}

// MCPRemoteServer is an MCP server reached over HTTP, written as a URL or as {url, api_key}.
type MCPRemoteServer struct {
	URL    string `yaml:"url" json:"url"`
	APIKey string `yaml:"api_key" json:"api_key"`
}

// UnmarshalYAML accepts a bare URL as well as a mapping.
func (s *MCPRemoteServer) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = MCPRemoteServer{URL: n.Value}
		return nil
	}
	type plain MCPRemoteServer
	return n.Decode((*plain)(s))
}

// Match returns the first of a knowledge or task microagent's triggers, in declared order, that
// occurs in query ignoring case, spelled as declared.
func (m *Microagent) Match(query string) (trigger string, ok bool) {
	if m.Type == TypeRepo {
		return "", false
	}
	q := strings.ToLower(query)
	for _, t := range m.Triggers {
		if strings.Contains(q, strings.ToLower(t)) {
			return t, true
		}
	}
	return "", false
}

// frontMatter is the YAML header of a microagent file; absent keys keep OpenHands' defaults.
type frontMatter struct {
	Name     string      `yaml:"name"`
	Type     string      `yaml:"type"`
	Version  string      `yaml:"version"`
	Agent    string      `yaml:"agent"`
	Triggers []string    `yaml:"triggers"`
	Inputs   []inputYAML `yaml:"inputs"`
	MCPTools *MCPTools   `yaml:"mcp_tools"`
}

// inputYAML tells a missing key from an empty one: both keys of an input are required.
type inputYAML struct {
	Name        *string `yaml:"name"`
	Description *string `yaml:"description"`
}

// missingInputsNote is added to a task microagent's content, which always has inputs.
const missingInputsNote = "\n\nIf the user didn't provide any of these variables, ask the user to provide them first before the agent can proceed with the task."

// Parse reads a microagent file. source names the file in errors and in the result; name is the
// name to give it ("" to take the front matter's "name", default "default"). A file without front
// matter is a repo microagent whose content is the whole (trimmed) text.
func Parse(source, name string, data []byte) (*Microagent, error) {
	header, body, _ := splitFrontMatter(string(data))
	fm := frontMatter{Name: "default", Version: "1.0.0", Agent: "CodeActAgent"}
	if err := decodeFrontMatter(header, &fm); err != nil {
		return nil, fmt.Errorf("microagent %s: front matter: %w", source, err)
	}
	if err := fm.validate(); err != nil {
		return nil, fmt.Errorf("microagent %s: %w", source, err)
	}
	m := &Microagent{
		Name:     name,
		Content:  body,
		Triggers: fm.Triggers,
		MCPTools: fm.MCPTools,
		Version:  fm.Version,
		Agent:    fm.Agent,
		Source:   source,
	}
	if m.Name == "" {
		m.Name = fm.Name
	}
	for _, in := range fm.Inputs {
		m.Inputs = append(m.Inputs, Input{Name: *in.Name, Description: *in.Description})
	}
	switch {
	case len(m.Inputs) > 0:
		m.Type = TypeTask
		// The slash command uses the front matter's name even when the file gives the name.
		if cmd := "/" + fm.Name; !slices.Contains(m.Triggers, cmd) {
			m.Triggers = append(m.Triggers, cmd)
		}
		m.Content += missingInputsNote
	case len(m.Triggers) > 0:
		m.Type = TypeKnowledge
	default:
		m.Type = TypeRepo
	}
	return m, nil
}

// decodeFrontMatter fills fm from the YAML header. Like python-frontmatter, a header that is empty
// or not a mapping leaves every default in place.
func decodeFrontMatter(header string, fm *frontMatter) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(header), &doc); err != nil {
		return err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return doc.Content[0].Decode(fm)
}

func (fm *frontMatter) validate() error {
	switch Type(fm.Type) {
	case "", TypeRepo, TypeKnowledge, TypeTask:
	default:
		return fmt.Errorf(`invalid "type" value %q: valid types are "knowledge", "repo", "task"`, fm.Type)
	}
	for i, in := range fm.Inputs {
		if in.Name == nil || in.Description == nil {
			return fmt.Errorf("inputs[%d]: name and description are required", i)
		}
	}
	if t := fm.MCPTools; t != nil {
		if len(t.StdioServers) == 0 {
			return errors.New("mcp_tools has no stdio servers: only stdio servers are supported")
		}
		for i, s := range t.StdioServers {
			if s.Name == "" || s.Command == "" {
				return fmt.Errorf("mcp_tools.stdio_servers[%d]: name and command are required", i)
			}
		}
	}
	return nil
}

// splitFrontMatter splits text as python-frontmatter does: the text is trimmed; it has front matter
// when its first line is a boundary and a later line is one too; the body after the second boundary
// is trimmed. Without front matter the body is the whole trimmed text.
func splitFrontMatter(text string) (header, body string, ok bool) {
	text = strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
	first, rest, found := strings.Cut(text, "\n")
	if !found || !isBoundary(first) {
		return "", text, false
	}
	offset := len(first) + 1
	for line := range strings.Lines(rest) {
		if isBoundary(strings.TrimSuffix(line, "\n")) {
			return text[len(first)+1 : offset], strings.TrimSpace(text[offset+len(line):]), true
		}
		offset += len(line)
	}
	return "", text, false
}

// isBoundary reports whether line delimits front matter: three or more dashes, then only spaces.
func isBoundary(line string) bool {
	line = strings.TrimRightFunc(line, unicode.IsSpace)
	return len(line) >= 3 && strings.Trim(line, "-") == ""
}
