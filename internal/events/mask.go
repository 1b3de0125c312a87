package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// masker replaces secret values with SecretHidden in serialized events.
//
// OpenHands masks strings in nested objects but not in arrays, and leaves the persisted "message"
// unmasked; gohands masks every string value, keys excepted, so no secret reaches disk or a client.
type masker struct {
	values  []string // longest first, so a secret containing another is replaced whole
	escaped [][]byte // each value as it appears inside a JSON string we wrote
}

func newMasker(secrets map[string]string) *masker {
	m := &masker{}
	for _, v := range secrets {
		if v != "" && !slices.Contains(m.values, v) {
			m.values = append(m.values, v)
		}
	}
	slices.SortFunc(m.values, func(a, b string) int { return len(b) - len(a) })
	for _, v := range m.values {
		q := appendString(nil, v)
		m.escaped = append(m.escaped, q[1:len(q)-1])
	}
	return m
}

func (m *masker) empty() bool { return m == nil || len(m.values) == 0 }

// mask returns data with every secret replaced, or data itself when no secret occurs in it.
func (m *masker) mask(data []byte) ([]byte, error) {
	if m.empty() || !m.mayContain(data) {
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	out := make([]byte, 0, len(data))
	out, err := m.walk(dec, out, 0)
	if err != nil {
		return nil, fmt.Errorf("mask secrets: %w", err)
	}
	return out, nil
}

// mayContain is a cheap pre-check. A value with characters that JSON may escape in several ways
// (non-ASCII, quotes, control characters) always takes the full walk.
func (m *masker) mayContain(data []byte) bool {
	for i, v := range m.values {
		if bytes.Contains(data, m.escaped[i]) || !isPlainASCII(v) {
			return true
		}
	}
	return false
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' {
			return false
		}
	}
	return true
}

func (m *masker) replace(s string) string {
	for _, v := range m.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, SecretHidden)
		}
	}
	return s
}

// walk copies one JSON value from dec to out, masking strings that are values (not keys).
func (m *masker) walk(dec *json.Decoder, out []byte, depth int) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		obj := t == '{'
		out = append(out, byte(t))
		for first := true; dec.More(); first = false {
			if !first {
				out = append(out, ',')
			}
			if obj {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				out = appendString(out, key.(string))
				out = append(out, ':')
			}
			if out, err = m.walk(dec, out, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if obj {
			return append(out, '}'), nil
		}
		return append(out, ']'), nil
	case string:
		return appendString(out, m.replace(t)), nil
	case json.Number:
		return append(out, t...), nil
	case bool:
		if t {
			return append(out, "true"...), nil
		}
		return append(out, "false"...), nil
	default:
		return append(out, "null"...), nil
	}
}
