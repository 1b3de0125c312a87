package events

// OpenHands derives some message texts from Python reprs, and older streams store editor calls as
// Python source. No Go library speaks Python literals, so this file holds the two small pieces needed:
// a repr of JSON values and a parser of the literal subset repr produces.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyReprJSON renders a JSON value as Python's repr() of the equivalent object, keeping key order.
func pyReprJSON(raw RawJSON, ifEmpty string) string {
	if isNull(raw) {
		return ifEmpty
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var sb strings.Builder
	if err := reprValue(dec, &sb); err != nil {
		return string(raw)
	}
	return sb.String()
}

func reprValue(dec *json.Decoder, sb *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := "}"
		if t == '[' {
			closing = "]"
		}
		sb.WriteByte(byte(t))
		first := true
		for dec.More() {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				sb.WriteString(pyReprString(key.(string)))
				sb.WriteString(": ")
			}
			if err := reprValue(dec, sb); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		sb.WriteString(closing)
	case string:
		sb.WriteString(pyReprString(t))
	case json.Number:
		sb.WriteString(pyReprNumber(string(t)))
	case bool:
		if t {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case nil:
		sb.WriteString("None")
	}
	return nil
}

func pyReprNumber(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyReprString is Python's repr of a str: single quotes unless the text has one and no double quote.
func pyReprString(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\':
			sb.WriteString(`\\`)
		case r == rune(quote):
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case r > 0x7f && !unicode.IsPrint(r):
			if r <= 0xff {
				fmt.Fprintf(&sb, `\x%02x`, r)
			} else if r <= 0xffff {
				fmt.Fprintf(&sb, `\u%04x`, r)
			} else {
				fmt.Fprintf(&sb, `\U%08x`, r)
			}
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

func pyIntList(ids []int64) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	sb.WriteByte(']')
	return sb.String()
}

// objectString returns the string value of key in a JSON object.
func objectString(raw RawJSON, key string) (string, bool) {
	var m map[string]RawJSON
	if json.Unmarshal(raw, &m) != nil {
		return "", false
	}
	v, ok := m[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		// Python formats any value; a non-string reason is rare enough to show as JSON.
		return strings.TrimSpace(string(v)), true
	}
	return s, true
}

// migrateTranslatedIPython applies OpenHands' migration of the retired translated_ipython_code arg:
// "print(file_editor(**{...}))" has its dict merged into the args; "view" loses its command.
func migrateTranslatedIPython(raw RawJSON, fields map[string]RawJSON) {
	var code string
	if json.Unmarshal(raw, &code) != nil {
		return
	}
	const prefix, suffix = "print(file_editor(**", "))"
	if strings.HasPrefix(code, prefix) && strings.HasSuffix(code, suffix) {
		obj, err := pyLiteralToJSON(code[len(prefix) : len(code)-len(suffix)])
		var m map[string]RawJSON
		if err == nil && json.Unmarshal(obj, &m) == nil {
			for k, v := range m {
				fields[k] = v
			}
		}
	}
	if cmd, ok := fields["command"]; ok && string(cmd) == `"view"` {
		delete(fields, "command")
	}
}

// pyLiteralToJSON converts a Python literal (dicts, lists, tuples, strings, numbers, True, False,
// None) to JSON, keeping dict order.
func pyLiteralToJSON(src string) ([]byte, error) {
	p := &pyParser{s: src}
	var out []byte
	out, err := p.value(out, 0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("python literal: unexpected %q at offset %d", p.s[p.i:min(len(p.s), p.i+10)], p.i)
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

var errPyLiteral = errors.New("python literal: unexpected end of input")

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value(out []byte, depth int) ([]byte, error) {
	if depth > 100 {
		return nil, errors.New("python literal: nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errPyLiteral
	}
	c := p.s[p.i]
	switch {
	case c == '{':
		return p.container(out, '}', true, depth)
	case c == '[':
		return p.container(out, ']', false, depth)
	case c == '(':
		return p.container(out, ')', false, depth)
	case c == '\'' || c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendString(out, s), nil
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return append(out, "true"...), nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return append(out, "false"...), nil
	case strings.HasPrefix(p.s[p.i:], "None"):
		p.i += 4
		return append(out, "null"...), nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		start := p.i
		p.i++
		for p.i < len(p.s) && strings.IndexByte("0123456789.eE+-_", p.s[p.i]) >= 0 {
			p.i++
		}
		num := strings.ReplaceAll(p.s[start:p.i], "_", "")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("python literal: bad number %q", num)
		}
		if _, err := strconv.ParseInt(num, 10, 64); err == nil {
			return append(out, strings.TrimPrefix(num, "+")...), nil
		}
		return strconv.AppendFloat(out, f, 'g', -1, 64), nil
	}
	return nil, fmt.Errorf("python literal: unexpected %q at offset %d", c, p.i)
}

func (p *pyParser) container(out []byte, closing byte, isDict bool, depth int) ([]byte, error) {
	p.i++ // opening bracket
	if isDict {
		out = append(out, '{')
	} else {
		out = append(out, '[')
	}
	first := true
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, errPyLiteral
		}
		if p.s[p.i] == closing {
			p.i++
			break
		}
		if !first {
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("python literal: expected ',' at offset %d", p.i)
			}
			p.i++
			p.space()
			if p.i < len(p.s) && p.s[p.i] == closing { // trailing comma
				p.i++
				break
			}
			out = append(out, ',')
		}
		first = false
		if isDict {
			p.space()
			if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
				return nil, fmt.Errorf("python literal: dict keys must be strings (offset %d)", p.i)
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			out = appendString(out, key)
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, fmt.Errorf("python literal: expected ':' at offset %d", p.i)
			}
			p.i++
			out = append(out, ':')
		}
		var err error
		if out, err = p.value(out, depth+1); err != nil {
			return nil, err
		}
	}
	if isDict {
		return append(out, '}'), nil
	}
	return append(out, ']'), nil
}

// str parses a single- or double-quoted Python string with its escapes.
func (p *pyParser) str() (string, error) {
	quote := p.s[p.i]
	p.i++
	var sb strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == quote:
			p.i++
			return sb.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", errPyLiteral
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case '0':
				sb.WriteByte(0)
			case 'a':
				sb.WriteByte('\a')
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'v':
				sb.WriteByte('\v')
			case '\n':
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if p.i+n > len(p.s) {
					return "", errPyLiteral
				}
				v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil || !utf8.ValidRune(rune(v)) {
					return "", fmt.Errorf("python literal: bad escape at offset %d", p.i)
				}
				sb.WriteRune(rune(v))
				p.i += n
			default: // \\, \', \" and unknown escapes keep the character (unknown ones keep the backslash)
				if e != '\\' && e != '\'' && e != '"' {
					sb.WriteByte('\\')
				}
				sb.WriteByte(e)
			}
		default:
			sb.WriteByte(c)
			p.i++
		}
	}
	return "", errPyLiteral
}
