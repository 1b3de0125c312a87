package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// decoder maps generic values — go-toml's maps from config.toml, or JSON from
// an environment variable — onto the config structs by their `toml` tags. It
// collects every problem instead of stopping at the first, so one run of
// `gohands serve` reports all the mistakes in a file.
type decoder struct {
	file   *tomlFile // positions for messages; nil for env and overrides
	source string    // where values come from when file is nil: "env SANDBOX_VOLUMES"
	warns  []Warning
	errs   []error
	// origins, when not nil, records where each key that was set came from.
	origins map[string]string
}

// where names the origin of the value at path: file:line:col, or source.
func (d *decoder) where(path []string) string {
	if d.file == nil {
		return d.source
	}
	if line, col := d.file.at(path); line > 0 {
		return fmt.Sprintf("%s:%d:%d", d.file.name, line, col)
	}
	return d.file.name
}

func (d *decoder) fail(path []string, format string, args ...any) {
	d.errs = append(d.errs, &Error{Source: d.where(path), Key: dotted(path), Err: fmt.Errorf(format, args...)})
}

func (d *decoder) setAt(path []string) {
	if d.origins != nil {
		d.origins[dotted(path)] = d.where(path)
	}
}

func (d *decoder) warn(path []string, format string, args ...any) {
	w := Warning{Key: dotted(path), Msg: fmt.Sprintf(format, args...)}
	if d.file != nil {
		w.File = d.file.name
		w.Line, _ = d.file.at(path)
	} else if d.source != "" {
		w.Msg = d.source + ": " + w.Msg
	}
	d.warns = append(d.warns, w)
}

// tomlName returns the key a struct field is read from, "" if none.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// fieldByKey finds the field of struct type t read from key.
func fieldByKey(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if tomlName(t.Field(i)) == key {
			return i, true
		}
	}
	return 0, false
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if n := tomlName(t.Field(i)); n != "" {
			keys = append(keys, n)
		}
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeTable sets the fields of struct dst from table m. Keys with no field
// are reported as warnings (OpenHands ignores them too; its own template has
// some), with a suggestion when one is close.
func (d *decoder) decodeTable(path []string, m map[string]any, dst reflect.Value) {
	for _, k := range sortedKeys(m) {
		kp := appendPath(path, k)
		i, ok := fieldByKey(dst.Type(), k)
		if !ok {
			msg := fmt.Sprintf("unknown key %q in [%s]", k, dotted(path))
			if s := suggest(k, keysOf(dst.Type())); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.warn(kp, "%s", msg)
			continue
		}
		if d.decodeValue(kp, m[k], dst.Field(i)) {
			d.setAt(kp)
		}
	}
}

// decodeValue sets dst from raw, which has go-toml's generic types. It
// always builds fresh slices, maps and pointers, so a value copied from a
// base group is never written through. It reports whether dst was set.
func (d *decoder) decodeValue(path []string, raw any, dst reflect.Value) bool {
	switch p := dst.Addr().Interface().(type) {
	case *Secret:
		s, ok := raw.(string)
		if !ok {
			d.fail(path, "expected a string, got %s", describe(raw))
			return false
		}
		*p = NewSecret(s)
		return true
	case *Condenser:
		m, ok := raw.(map[string]any)
		if !ok {
			d.fail(path, "expected a table (a condenser with a type), got %s", describe(raw))
			return false
		}
		return d.decodeCondenser(path, m, p)
	case *MCPServer:
		if s, ok := raw.(string); ok {
			*p = MCPServer{URL: s}
			return true
		}
	case *map[string]any:
		m, ok := raw.(map[string]any)
		if !ok {
			d.fail(path, "expected a table, got %s", describe(raw))
			return false
		}
		*p = m
		return true
	}

	switch dst.Kind() {
	case reflect.String:
		if s, ok := raw.(string); ok {
			dst.SetString(s)
			return true
		}
	case reflect.Bool:
		if b, ok := raw.(bool); ok {
			dst.SetBool(b)
			return true
		}
	case reflect.Int, reflect.Int64:
		if n, ok := raw.(int64); ok {
			if dst.OverflowInt(n) {
				d.fail(path, "%d is out of range", n)
				return false
			}
			dst.SetInt(n)
			return true
		}
	case reflect.Float64:
		switch n := raw.(type) {
		case int64:
			dst.SetFloat(float64(n))
			return true
		case float64:
			dst.SetFloat(n)
			return true
		}
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if !d.decodeValue(path, raw, v.Elem()) {
			return false
		}
		dst.Set(v)
		return true
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			break
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		good := true
		for i, e := range arr {
			good = d.decodeValue(appendPath(path, indexElem(i)), e, out.Index(i)) && good
		}
		if good {
			dst.Set(out)
		}
		return good
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			break
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		good := true
		for _, k := range sortedKeys(m) {
			e := reflect.New(dst.Type().Elem()).Elem()
			if d.decodeValue(appendPath(path, k), m[k], e) {
				out.SetMapIndex(reflect.ValueOf(k), e)
			} else {
				good = false
			}
		}
		if good {
			dst.Set(out)
		}
		return good
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			break
		}
		v := reflect.New(dst.Type()).Elem()
		n := len(d.errs)
		d.decodeTable(path, m, v)
		if len(d.errs) > n {
			return false
		}
		dst.Set(v)
		return true
	}
	d.fail(path, "expected %s, got %s", expected(dst.Type()), describe(raw))
	return false
}

// decodeCondenser reads a condenser table: its type picks the defaults and
// the keys that apply.
func (d *decoder) decodeCondenser(path []string, m map[string]any, dst *Condenser) bool {
	typ := CondenserNoop
	if t, ok := m["type"]; ok {
		s, ok := t.(string)
		if !ok {
			d.fail(appendPath(path, "type"), "expected a string, got %s", describe(t))
			return false
		}
		typ = s
	}
	allowed, known := condenserKeys[typ]
	if !known {
		d.warn(appendPath(path, "type"), "unknown condenser type %q in [%s], using %q (known: %s)",
			typ, dotted(path), CondenserNoop, strings.Join(sortedKeys(condenserKeys), ", "))
		*dst = DefaultCondenser(CondenserNoop)
		return true
	}
	keep := map[string]any{}
	for _, k := range sortedKeys(m) {
		_, isField := fieldByKey(reflect.TypeFor[Condenser](), k)
		switch {
		case k == "type":
		case isField && !contains(allowed, k):
			d.warn(appendPath(path, k), "key %q does not apply to condenser type %q in [%s]; ignored", k, typ, dotted(path))
		default:
			keep[k] = m[k]
		}
	}
	c := DefaultCondenser(typ)
	n := len(d.errs)
	d.decodeTable(path, keep, reflect.ValueOf(&c).Elem())
	if len(d.errs) > n {
		return false
	}
	*dst = c
	return true
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func appendPath(path []string, elem string) []string {
	return append(append(make([]string, 0, len(path)+1), path...), elem)
}

// expected names the TOML type a Go field wants.
func expected(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[MCPServer]():
		return "a URL string or a table"
	case reflect.TypeFor[[]MCPServer]():
		return "an array of URL strings or tables"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(expected(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "a table"
	}
	return t.String()
}

// describe names a TOML value for an error message, with the value itself
// when it is a short scalar.
func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return fmt.Sprintf("string %q", v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %g", v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", raw)
}

// suggest returns the candidate closest to key, if it is close enough to be
// a likely typo.
func suggest(key string, candidates []string) string {
	limit := min(3, max(1, len(key)/4))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if dist := editDistance(key, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
