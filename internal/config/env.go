package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// applyEnv applies OpenHands' environment variables: [core] keys upper-cased
// without a prefix, the other sections with SANDBOX_, SECURITY_,
// KUBERNETES_, and the default LLM and agent groups with LLM_ and AGENT_.
// Named groups cannot be set from the environment.
func (l *loader) applyEnv() {
	c := l.cfg
	l.envStruct("", []string{"core"}, &c.Core)
	l.envStruct("SANDBOX_", []string{"sandbox"}, &c.Sandbox)
	l.envStruct("SECURITY_", []string{"security"}, &c.Security)
	l.envStruct("KUBERNETES_", []string{"kubernetes"}, &c.Kubernetes)
	l.envStruct("LLM_", []string{"llm"}, &c.LLM)
	l.envStruct("AGENT_", []string{"agent"}, &c.Agent)
}

func (l *loader) envStruct(prefix string, path []string, section any) {
	v := reflect.ValueOf(section).Elem()
	for i := range v.NumField() {
		key := tomlName(v.Type().Field(i))
		f := v.Field(i)
		if key == "" || (f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[Secret]()) {
			continue // the agent's condenser is set from config.toml only
		}
		name := prefix + strings.ToUpper(key)
		val, ok := l.env(name)
		if !ok || val == "" { // empty means unset, as in OpenHands
			continue
		}
		d := &decoder{source: "env " + name, origins: l.origins}
		kp := appendPath(path, key)
		if d.setString(kp, val, f, false) {
			d.setAt(kp)
		}
		l.collect(d)
	}
}

// setString sets dst from a string given in the environment or on the
// command line. Scalars are parsed by type; lists and tables are JSON. Where
// OpenHands logs a value it cannot convert and keeps the old one, we fail.
func (d *decoder) setString(path []string, s string, dst reflect.Value, strictBool bool) bool {
	if p, ok := dst.Addr().Interface().(*Secret); ok {
		*p = NewSecret(s)
		return true
	}
	t := strings.TrimSpace(s)
	switch dst.Kind() {
	case reflect.String:
		dst.SetString(s)
		return true
	case reflect.Bool:
		if !strictBool {
			// OpenHands: "true" or "1", any case, is true; anything else false.
			dst.SetBool(strings.EqualFold(t, "true") || t == "1")
			return true
		}
		b, err := strconv.ParseBool(t)
		if err != nil {
			d.fail(path, "expected true or false, got %q", s)
			return false
		}
		dst.SetBool(b)
		return true
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || dst.OverflowInt(n) {
			d.fail(path, "expected an integer, got %q", s)
			return false
		}
		dst.SetInt(n)
		return true
	case reflect.Float64:
		n, err := strconv.ParseFloat(t, 64)
		if err != nil {
			d.fail(path, "expected a number, got %q", s)
			return false
		}
		dst.SetFloat(n)
		return true
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if !d.setString(path, s, v.Elem(), strictBool) {
			return false
		}
		dst.Set(v)
		return true
	}
	// Lists and tables: JSON, which also covers the Python literals OpenHands
	// users write here when they are valid JSON ({"K": "V"}, ["--x"]).
	raw, err := parseJSON(s)
	if err != nil {
		d.fail(path, "expected %s as JSON: %v", expected(dst.Type()), err)
		return false
	}
	if raw == nil {
		dst.SetZero()
		return true
	}
	return d.decodeValue(path, raw, dst)
}

// parseJSON decodes one JSON value into go-toml's generic types: int64 for
// integral numbers, float64 for the others.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return fromJSON(v, false), nil
}

// fromJSON converts json.Number values; with dropNull it also removes nulls
// from tables (TOML has none).
func fromJSON(v any, dropNull bool) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i], dropNull)
		}
	case map[string]any:
		for k, e := range v {
			if e == nil && dropNull {
				delete(v, k)
				continue
			}
			v[k] = fromJSON(e, dropNull)
		}
	}
	return v
}

// applyOverrides applies command-line settings.
func (l *loader) applyOverrides(o Overrides) {
	c := l.cfg
	if o.LLMConfig != "" && o.LLMConfig != "llm" {
		g, ok := c.LLMs[o.LLMConfig]
		if !ok {
			l.errs = append(l.errs, &Error{Source: "override llm-config",
				Err: fmt.Errorf("no [llm.%s] group in the config file (groups: %s)", o.LLMConfig, strings.Join(sortedKeys(c.LLMs), ", "))})
		} else {
			c.LLM = clone(g)
			for _, k := range keysOf(reflect.TypeFor[LLM]()) {
				l.origins["llm."+k] = "override llm-config"
			}
		}
	}
	if o.Agent != "" {
		c.Core.DefaultAgent = o.Agent
		l.origins["core.default_agent"] = "override agent"
	}
	if o.MaxIterations != nil {
		c.Core.MaxIterations = *o.MaxIterations
		l.origins["core.max_iterations"] = "override max-iterations"
	}
	if o.MaxBudgetPerTask != nil {
		v := *o.MaxBudgetPerTask
		c.Core.MaxBudgetPerTask = &v
		l.origins["core.max_budget_per_task"] = "override max-budget-per-task"
	}
	if o.SelectedRepo != "" {
		c.Sandbox.SelectedRepo = o.SelectedRepo
		l.origins["sandbox.selected_repo"] = "override selected-repo"
	}
	for _, kv := range o.Set {
		l.set(kv)
	}
}

// set applies one "section.key=value" or "section.group.key=value".
func (l *loader) set(kv string) {
	key, val, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	d := &decoder{source: "override", origins: l.origins}
	defer l.collect(d)
	if !ok {
		d.fail(nil, "%q is not key=value", kv)
		return
	}
	c := l.cfg
	path := strings.Split(key, ".")
	sections := map[string]any{
		"core": &c.Core, "llm": &c.LLM, "agent": &c.Agent, "sandbox": &c.Sandbox,
		"security": &c.Security, "kubernetes": &c.Kubernetes,
	}
	var section reflect.Value
	var commit func()
	switch {
	case len(path) == 2 && sections[path[0]] != nil:
		section = reflect.ValueOf(sections[path[0]]).Elem()
	case len(path) == 3 && path[0] == "llm":
		g, ok := c.LLMs[path[1]]
		if !ok {
			d.fail(path, "no [llm.%s] group", path[1])
			return
		}
		section = reflect.ValueOf(&g).Elem()
		commit = func() { c.LLMs[path[1]] = g }
	case len(path) == 3 && path[0] == "agent":
		g, ok := c.Agents[path[1]]
		if !ok {
			d.fail(path, "no [agent.%s] group", path[1])
			return
		}
		section = reflect.ValueOf(&g).Elem()
		commit = func() { c.Agents[path[1]] = g }
	default:
		d.fail(nil, "cannot set %q: want core|llm|agent|sandbox|security|kubernetes.<key>, or llm|agent.<group>.<key>", key)
		return
	}
	name := path[len(path)-1]
	i, ok := fieldByKey(section.Type(), name)
	if !ok {
		msg := fmt.Sprintf("unknown key %q", name)
		if s := suggest(name, keysOf(section.Type())); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.fail(path, "%s", msg)
		return
	}
	f := section.Field(i)
	if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[Secret]() {
		d.fail(path, "cannot be set from the command line; use the config file")
		return
	}
	if d.setString(path, val, f, true) {
		d.setAt(path)
		if commit != nil {
			commit()
		}
	}
}
