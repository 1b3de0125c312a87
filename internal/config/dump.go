package config

import (
	"bytes"
	"encoding/json"

	"github.com/pelletier/go-toml/v2"
)

// Dump renders the effective configuration as TOML, in config.toml's layout,
// with secrets masked and Extended tables left out. It is meant for logs and
// `--print-config`-style output; it is not a file to load back (the masks
// would become the values).
func (c Config) Dump() string {
	llm := generic(c.LLM)
	for name, g := range c.LLMs {
		llm[name] = generic(g)
	}
	agent := generic(c.Agent)
	for name, a := range c.Agents {
		agent[name] = generic(a)
	}
	doc := map[string]any{
		"core":       generic(c.Core),
		"llm":        llm,
		"agent":      agent,
		"sandbox":    generic(c.Sandbox),
		"security":   generic(c.Security),
		"mcp":        generic(c.MCP),
		"kubernetes": generic(c.Kubernetes),
	}
	b, err := toml.Marshal(doc)
	if err != nil {
		return "# cannot render the configuration: " + err.Error() + "\n"
	}
	return string(b)
}

// generic turns a section into a TOML-ready table through its JSON form,
// where the masking of secrets lives.
func generic(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return map[string]any{}
	}
	return fromJSON(m, true).(map[string]any)
}
