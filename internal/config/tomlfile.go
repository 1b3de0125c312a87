package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlFile is one parsed config file: its values as go-toml decodes them into
// generic maps, and where each key sits.
//
// Why two passes: go-toml's typed decoder stops at the first wrongly typed
// value and reports no positions for it, and after a successful decode it
// forgets where keys were. So go-toml decodes the document into maps (it does
// the value semantics: escapes, numbers, dates, duplicate detection), and we
// walk its unstable AST to record the byte offset of every key, which the
// library does not otherwise expose.
type tomlFile struct {
	name  string
	root  map[string]any
	lines []int          // byte offset at which each line starts
	keys  map[string]int // pathKey(path) → byte offset of the key
}

// parseTOML decodes data. A malformed document is an *Error placed at
// name:line:column.
func parseTOML(name string, data []byte) (*tomlFile, error) {
	f := &tomlFile{name: name, keys: map[string]int{}, lines: lineStarts(data)}
	if err := toml.Unmarshal(data, &f.root); err != nil {
		return nil, f.syntaxError(data, err)
	}
	if f.root == nil {
		f.root = map[string]any{}
	}
	f.index(data)
	return f, nil
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineCol turns a byte offset into a 1-based line and column (in bytes).
func (f *tomlFile) lineCol(off int) (line, col int) {
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - f.lines[i] + 1
}

// at returns the position of a key, or 0, 0 when unknown.
func (f *tomlFile) at(path []string) (line, col int) {
	off, ok := f.keys[pathKey(path)]
	if !ok {
		return 0, 0
	}
	return f.lineCol(off)
}

func (f *tomlFile) syntaxError(data []byte, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &Error{Source: fmt.Sprintf("%s:%d:%d", f.name, line, col), Err: errors.New(trimTOMLPrefix(de.Error()))}
	}
	// go-toml reports semantic errors (a key defined twice, a table
	// redefined) without a position. Find the first expression at which a
	// prefix of the document stops decoding: prefixes cut at line starts of
	// expressions are complete documents, and failure is monotonic in the
	// prefix length, so a binary search finds it.
	starts := expressionStarts(data)
	i := sort.Search(len(starts), func(i int) bool {
		end := len(data)
		if i+1 < len(starts) {
			end = f.lines[f.lineIndex(starts[i+1])]
		}
		var m map[string]any
		return toml.Unmarshal(data[:end], &m) != nil
	})
	source := f.name
	if i < len(starts) {
		line, col := f.lineCol(starts[i])
		source = fmt.Sprintf("%s:%d:%d", f.name, line, col)
	}
	return &Error{Source: source, Err: errors.New(trimTOMLPrefix(err.Error()))}
}

func (f *tomlFile) lineIndex(off int) int {
	line, _ := f.lineCol(off)
	return line - 1
}

func trimTOMLPrefix(s string) string { return strings.TrimPrefix(s, "toml: ") }

// expressionStarts returns the offset of the first key of each top-level
// expression, as far as the document parses.
func expressionStarts(data []byte) []int {
	var p unstable.Parser
	p.Reset(data)
	var starts []int
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue, unstable.Table, unstable.ArrayTable:
			if it := e.Key(); it.Next() {
				starts = append(starts, int(it.Node().Raw.Offset))
			}
		}
	}
	return starts
}

// Path elements that are array indices are stored with this prefix, which a
// TOML key cannot produce in pathKey's joined form (the separator differs).
const indexMark = "\x00"

func indexElem(i int) string { return indexMark + strconv.Itoa(i) }

func pathKey(path []string) string { return strings.Join(path, "\x1f") }

// dotted renders a path for messages: core.max_iterations,
// mcp.stdio_servers[0].name, llm."my.group".model.
func dotted(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if strings.HasPrefix(p, indexMark) {
			b.WriteString("[" + p[len(indexMark):] + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(p) {
			b.WriteString(p)
		} else {
			b.WriteString(strconv.Quote(p))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// index records the offset of every key, table header and array element.
func (f *tomlFile) index(data []byte) {
	var p unstable.Parser
	p.Reset(data)
	var table []string
	arrays := map[string]int{} // pathKey of an array of tables → elements so far
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var path []string
			it := e.Key()
			off := 0
			for it.Next() {
				if len(path) > 0 { // a prefix that is an array of tables means its last element
					if n := arrays[pathKey(path)]; n > 0 {
						path = append(path, indexElem(n-1))
					}
				}
				path = append(path, string(it.Node().Data))
				off = int(it.Node().Raw.Offset)
				f.mark(path, off)
			}
			if e.Kind == unstable.ArrayTable {
				k := pathKey(path)
				path = append(path, indexElem(arrays[k]))
				arrays[k]++
				f.mark(path, off)
			}
			table = path
		case unstable.KeyValue:
			f.keyValue(table, e)
		}
	}
}

func (f *tomlFile) keyValue(table []string, kv *unstable.Node) {
	path := append([]string(nil), table...)
	off := 0
	it := kv.Key()
	for it.Next() {
		path = append(path, string(it.Node().Data))
		off = int(it.Node().Raw.Offset)
		f.mark(path, off)
	}
	f.value(path, kv.Value(), off)
}

func (f *tomlFile) value(path []string, v *unstable.Node, off int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if it.Node().Kind == unstable.KeyValue {
				f.keyValue(path, it.Node())
			}
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			elem := it.Node()
			elemOff := off
			if elem.Raw.Length > 0 {
				elemOff = int(elem.Raw.Offset)
			}
			ep := append(append([]string(nil), path...), indexElem(i))
			f.mark(ep, elemOff)
			f.value(ep, elem, elemOff)
		}
	}
}

func (f *tomlFile) mark(path []string, off int) {
	k := pathKey(path)
	if _, ok := f.keys[k]; !ok {
		f.keys[k] = off
	}
}
