package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// RawEvent is a stored event as JSON text with the envelope fields a forwarder needs, read without
// decoding the event: reconnecting clients get the text as stored (secrets already masked).
type RawEvent struct {
	ID     int64
	Action bool   // an action, else an observation
	Type   string // the action or observation type
	Source Source
	JSON   []byte
}

// Replay yields the published events with from <= id, oldest first, as stored. It decodes nothing,
// so replaying a long conversation to a client costs little more than reading the log.
func (s *Stream) Replay(ctx context.Context, from int64) iter.Seq2[RawEvent, error] {
	return func(yield func(RawEvent, error) bool) {
		s.mu.Lock()
		last := s.published - 1
		s.mu.Unlock()
		if from < 0 {
			from = 0
		}
		if from > last {
			return
		}
		var stop bool
		err := s.log.Scan(from, last, false, func(id int64, raw []byte) bool {
			if ctx.Err() != nil {
				return false
			}
			ev, ok := peekEnvelope(raw)
			if !ok {
				stop = !yield(RawEvent{}, fmt.Errorf("event %d of %s: %w: no action or observation type", id, s.conversationID, ErrMalformed))
				return !stop
			}
			ev.ID, ev.JSON = id, raw
			stop = !yield(ev, nil)
			return !stop
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil && !stop {
			yield(RawEvent{}, fmt.Errorf("replay %s: %w", s.conversationID, err))
		}
	}
}

// peekEnvelope finds the top-level "action"/"observation" and "source" keys of an event's JSON
// text in one pass, skipping nested values. Hand-written because encoding/json has no way to read
// two keys of an object without scanning and validating all of it, which is most of replay's cost.
func peekEnvelope(raw []byte) (ev RawEvent, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ev, false
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == '}' {
			break
		}
		if raw[i] == ',' {
			i++
			continue
		}
		keyEnd := skipString(raw, i)
		if keyEnd < 0 {
			return ev, false
		}
		key := raw[i+1 : keyEnd-1]
		i = skipSpace(raw, keyEnd)
		if i >= len(raw) || raw[i] != ':' {
			return ev, false
		}
		i = skipSpace(raw, i+1)
		valEnd := skipValue(raw, i)
		if valEnd < 0 {
			return ev, false
		}
		switch string(key) {
		case "action", "observation", "source":
			var v string
			if raw[i] == '"' && json.Unmarshal(raw[i:valEnd], &v) == nil {
				switch string(key) {
				case "source":
					ev.Source = Source(v)
				case "action":
					ev.Action, ev.Type = true, v
				case "observation":
					if ev.Type == "" { // "action" wins, as in Decode
						ev.Type = v
					}
				}
			}
		}
		i = valEnd
	}
	return ev, ev.Type != ""
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i], or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at b[i], or -1. Nested values are
// skipped by counting brackets outside strings; validity is not checked (the log's checksums
// guarantee the bytes are what was written).
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
