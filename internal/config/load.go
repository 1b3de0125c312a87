package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
)

// DefaultPath is the config file read when LoadOptions.Path is empty, relative
// to the working directory, as in OpenHands.
const DefaultPath = "config.toml"

// LoadOptions says where configuration comes from.
type LoadOptions struct {
	// Path is the config file named on the command line (--config-file);
	// it must exist. "" means DefaultPath, which may be absent.
	Path string
	// Env looks up an environment variable; programs pass os.LookupEnv.
	// nil means no environment at all, which keeps tests hermetic.
	Env func(key string) (string, bool)
	// Overrides are command-line settings; they win over file and environment.
	Overrides Overrides
}

// Overrides are command-line settings, applied after the config file and the
// environment. Zero values mean "not given": unlike OpenHands' CLI, which
// always applies its -c and -i defaults, an absent flag changes nothing.
type Overrides struct {
	// LLMConfig (-l/--llm-config) makes the named [llm.<name>] group the
	// default LLM, replacing [llm] and any LLM_* environment values.
	LLMConfig string
	// Agent (-c/--agent-cls) sets core.default_agent.
	Agent string
	// MaxIterations (-i/--max-iterations) sets core.max_iterations.
	MaxIterations *int
	// MaxBudgetPerTask (-b/--max-budget-per-task) sets core.max_budget_per_task.
	MaxBudgetPerTask *float64
	// SelectedRepo (--selected-repo) sets sandbox.selected_repo.
	SelectedRepo string
	// Set holds "key=value" assignments, applied last, in order: section.key
	// for core, llm, agent, sandbox, security and kubernetes, or
	// llm.<name>.key and agent.<name>.key for an existing named group.
	// Values are read like environment variables, except that booleans must
	// be true, false, 1 or 0.
	Set []string
}

// Load builds the configuration: defaults, then the config file, then the
// environment, then the overrides; then it finalises derived values and
// validates. Warnings (unknown keys, deprecated settings) are returned even
// when loading fails. The error, if any, joins one *Error per problem.
func Load(opts LoadOptions) (*Config, []Warning, error) {
	name, explicit := opts.Path, opts.Path != ""
	if !explicit {
		name = DefaultPath
	}
	data, err := os.ReadFile(name)
	if err != nil {
		if explicit || !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("read config file: %w", err)
		}
		return load(opts, "", nil)
	}
	return load(opts, name, data)
}

// load is Load once the file is read; name is "" when there is no file.
func load(opts LoadOptions, name string, data []byte) (*Config, []Warning, error) {
	env := opts.Env
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	l := &loader{cfg: Default(), env: env, origins: map[string]string{}}
	// OpenHands reads the web server's port from the lower-case "port" variable.
	if port, ok := env("port"); ok && port != "" {
		l.cfg.Core.MCPHost = "localhost:" + port
	}
	if name != "" {
		f, err := parseTOML(name, data)
		if err != nil {
			return nil, nil, err
		}
		l.file = f
		d := &decoder{file: f, origins: l.origins}
		l.applyTOML(d, f.root)
		l.collect(d)
	}
	l.applyEnv()
	l.applyOverrides(opts.Overrides)
	if len(l.errs) == 0 {
		l.finalize()
	}
	if len(l.errs) == 0 {
		if err := l.cfg.Validate(); err != nil {
			l.errs = append(l.errs, l.placed(err)...)
		}
	}
	if len(l.errs) > 0 {
		return nil, l.sortedWarnings(), errors.Join(l.errs...)
	}
	return l.cfg, l.sortedWarnings(), nil
}

// loader carries one Load call's state.
type loader struct {
	cfg   *Config
	env   func(string) (string, bool)
	file  *tomlFile // nil when no config file was read
	warns []Warning
	errs  []error
	// origins maps a dotted key to where its current value was set:
	// "config.toml:12:1", "env SANDBOX_VOLUMES", "override sandbox.timeout".
	// Errors found after decoding (finalisation, validation) cite it.
	origins map[string]string

	hasCondenserSection bool // [condenser] present in the file
	agentCondenserSet   bool // [agent] condenser = {...} present
}

func (l *loader) collect(d *decoder) {
	l.warns = append(l.warns, d.warns...)
	l.errs = append(l.errs, d.errs...)
}

// placed gives each source-less *Error in a Validate result the origin of
// its key.
func (l *loader) placed(err error) []error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var ce *Error
		if errors.As(e, &ce) && ce.Source == "" {
			ce.Source = l.originOf(ce.Key)
		}
	}
	return errs
}

// originOf finds where the value of key was set: the key itself, else the
// base-section key a named group inherited it from, else the nearest
// enclosing key that was set as a whole (a list, a table).
func (l *loader) originOf(key string) string {
	candidates := []string{key}
	if rest, ok := strings.CutPrefix(key, "condenser."); ok {
		candidates = append(candidates, "agent.condenser."+rest)
	}
	for _, section := range []string{"llm.", "agent."} {
		if rest, ok := strings.CutPrefix(key, section); ok {
			if _, field, ok := strings.Cut(rest, "."); ok {
				candidates = append(candidates, section+field)
			}
		}
	}
	for _, k := range candidates {
		for ; k != ""; k = k[:max(strings.LastIndexAny(k, ".["), 0)] {
			if o, ok := l.origins[k]; ok {
				return o
			}
		}
	}
	return "default"
}

// sortedWarnings orders warnings as a reader goes through the file: by line,
// then those about the file as a whole, then those from elsewhere.
func (l *loader) sortedWarnings() []Warning {
	rank := func(w Warning) int {
		switch {
		case w.File != "" && w.Line > 0:
			return w.Line
		case w.File != "":
			return math.MaxInt - 1
		}
		return math.MaxInt
	}
	sort.SliceStable(l.warns, func(i, j int) bool { return rank(l.warns[i]) < rank(l.warns[j]) })
	return l.warns
}

// sections are the top-level tables OpenHands reads, in the order they are
// applied: named agent groups copy [agent] before [condenser] changes the
// default agent, as in OpenHands.
var sections = []string{"core", "llm", "agent", "condenser", "sandbox", "security", "mcp", "kubernetes", "extended"}

func (l *loader) applyTOML(d *decoder, root map[string]any) {
	c := l.cfg
	for _, k := range sortedKeys(root) {
		if contains(sections, k) {
			continue
		}
		if _, isTable := root[k].(map[string]any); isTable {
			d.warn([]string{k}, "unknown section [%s] ignored (known: %s)", k, joinSections())
			continue
		}
		msg := fmt.Sprintf("key %q outside any section ignored", k)
		if _, ok := fieldByKey(reflect.TypeFor[Core](), k); ok {
			msg += " (did you mean to put it under [core]?)"
		}
		d.warn([]string{k}, "%s", msg)
	}
	for _, name := range sections {
		raw, ok := root[name]
		if !ok {
			continue
		}
		path := []string{name}
		m, ok := raw.(map[string]any)
		if !ok {
			d.fail(path, "expected a table (a [%s] section), got %s", name, describe(raw))
			continue
		}
		switch name {
		case "core":
			d.decodeTable(path, m, reflect.ValueOf(&c.Core).Elem())
		case "llm":
			base, groups := splitGroups(m, nil)
			d.decodeTable(path, base, reflect.ValueOf(&c.LLM).Elem())
			for _, g := range sortedKeys(groups) {
				group := clone(c.LLM)
				d.decodeTable(appendPath(path, g), groups[g], reflect.ValueOf(&group).Elem())
				c.LLMs[g] = group
			}
		case "agent":
			// condenser and extended are tables that belong to the agent,
			// not names of agent groups.
			base, groups := splitGroups(m, []string{"condenser", "extended"})
			_, l.agentCondenserSet = base["condenser"]
			d.decodeTable(path, base, reflect.ValueOf(&c.Agent).Elem())
			for _, g := range sortedKeys(groups) {
				group := clone(c.Agent)
				d.decodeTable(appendPath(path, g), groups[g], reflect.ValueOf(&group).Elem())
				c.Agents[g] = group
			}
		case "condenser":
			l.hasCondenserSection = true
			d.decodeValue([]string{"condenser"}, m, reflect.ValueOf(&c.Agent.Condenser).Elem())
		case "sandbox":
			d.decodeTable(path, m, reflect.ValueOf(&c.Sandbox).Elem())
		case "security":
			d.decodeTable(path, m, reflect.ValueOf(&c.Security).Elem())
		case "mcp":
			d.decodeTable(path, m, reflect.ValueOf(&c.MCP).Elem())
		case "kubernetes":
			d.decodeTable(path, m, reflect.ValueOf(&c.Kubernetes).Elem())
		case "extended":
			c.Extended = m
		}
	}
}

func joinSections() string {
	s := ""
	for i, name := range sections {
		if i > 0 {
			s += ", "
		}
		s += "[" + name + "]"
	}
	return s
}

// splitGroups separates a section's own keys from its named groups: every
// table-valued key is a group (OpenHands' rule), except the keys listed in
// fields, which are table-valued settings of the section itself.
func splitGroups(m map[string]any, fields []string) (base map[string]any, groups map[string]map[string]any) {
	base, groups = map[string]any{}, map[string]map[string]any{}
	for k, v := range m {
		if t, ok := v.(map[string]any); ok && !contains(fields, k) {
			groups[k] = t
			continue
		}
		base[k] = v
	}
	return base, groups
}
