package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by every decoding error, so callers can tell bad input from I/O failures.
var ErrMalformed = errors.New("malformed event")

// Decode parses one event as OpenHands 0.50 (or an older version) wrote it. Keys renamed or retired
// by older versions are migrated the way OpenHands migrates them; keys nobody knows are kept in
// Unknown/UnknownFields (see UnknownKeys).
func Decode(data []byte) (*Event, error) {
	e := new(Event)
	if err := e.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return e, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// UnmarshalJSON implements json.Unmarshaler; see Decode.
func (e *Event) UnmarshalJSON(data []byte) error {
	*e = Event{ID: -1}
	if e.decodeFast(data) {
		return nil
	}
	*e = Event{ID: -1}
	return e.decodeGeneral(data)
}

// wireEvent is the envelope as gohands and OpenHands 0.50 write it.
type wireEvent struct {
	ID               *int64            `json:"id"`
	Timestamp        *string           `json:"timestamp"`
	Source           *Source           `json:"source"`
	Message          ignored           `json:"message"`
	Cause            *int64            `json:"cause"`
	Action           *ActionType       `json:"action"`
	Observation      *ObservationType  `json:"observation"`
	ToolCallMetadata *ToolCallMetadata `json:"tool_call_metadata"`
	LLMMetrics       *Metrics          `json:"llm_metrics"`
	Args             RawJSON           `json:"args"`
	Timeout          *float64          `json:"timeout"`
	Content          *string           `json:"content"`
	Extras           RawJSON           `json:"extras"`
	Success          ignored           `json:"success"`
}

// ignored skips a derived key without allocating.
type ignored struct{}

func (*ignored) UnmarshalJSON([]byte) error { return nil }

// decodeFast handles the common case in two passes: an event with exactly the keys 0.50 writes.
// Anything else — legacy keys, unknown keys, errors — goes to decodeGeneral, which also words the
// errors. (Like encoding/json in general, this path matches keys case-insensitively.)
func (e *Event) decodeFast(data []byte) bool {
	var w wireEvent
	if strictDecode(data, &w) != nil {
		return false
	}
	switch {
	case w.Action != nil && w.Observation == nil:
		if e.Action = newAction(*w.Action); e.Action == nil || !isObject(w.Args) ||
			strictDecode(w.Args, e.Action) != nil {
			return false
		}
		e.Timeout = w.Timeout
	case w.Observation != nil && w.Action == nil:
		if e.Observation = newObservation(*w.Observation); e.Observation == nil || !isObject(w.Extras) ||
			strictDecode(w.Extras, e.Observation) != nil {
			return false
		}
		if w.Content != nil {
			*e.Observation.text() = *w.Content
		}
	default:
		return false
	}
	if w.Source != nil {
		if !w.Source.Valid() {
			return false
		}
		e.Source = *w.Source
	}
	if w.ID != nil {
		e.ID = *w.ID
	}
	if w.Timestamp != nil {
		e.Timestamp = *w.Timestamp
	}
	e.Cause, e.ToolCallMetadata, e.LLMMetrics = w.Cause, w.ToolCallMetadata, w.LLMMetrics
	return true
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func isObject(raw RawJSON) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// decodeGeneral reads any event: it migrates legacy keys and keeps unknown ones.
func (e *Event) decodeGeneral(data []byte) error {
	var top map[string]RawJSON
	if err := json.Unmarshal(data, &top); err != nil {
		return malformed("not a JSON object: %v", err)
	}
	if top == nil {
		return malformed("null is not an event")
	}
	if raw, ok := top["action"]; ok {
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return malformed(`"action" must be a string, got %s`, clip(raw))
		}
		a := newAction(ActionType(t))
		if a == nil {
			return malformed("unknown action type %q", t)
		}
		e.Action = a
	} else if raw, ok := top["observation"]; ok {
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return malformed(`"observation" must be a string, got %s`, clip(raw))
		}
		o := newObservation(ObservationType(t))
		if o == nil {
			return malformed("unknown observation type %q", t)
		}
		e.Observation = o
	} else {
		return malformed(`neither "action" nor "observation" is present`)
	}
	for k, raw := range top {
		if err := e.decodeTop(k, raw, top); err != nil {
			return err
		}
	}
	if e.Action != nil {
		if err := e.decodeArgs(top["args"]); err != nil {
			return err
		}
	} else if err := e.decodeExtras(top["extras"]); err != nil {
		return err
	}
	return nil
}

func (e *Event) decodeTop(k string, raw RawJSON, top map[string]RawJSON) error {
	null := isNull(raw)
	var err error
	switch k {
	case "action", "observation", "args", "extras", "message", "success":
		// handled elsewhere, or derived and recomputed on write
	case "id":
		if !null {
			err = json.Unmarshal(raw, &e.ID)
		}
	case "timestamp":
		if !null {
			err = json.Unmarshal(raw, &e.Timestamp)
		}
	case "source":
		if !null {
			err = json.Unmarshal(raw, &e.Source)
			if err == nil && !e.Source.Valid() {
				return malformed("unknown source %q", e.Source)
			}
		}
	case "cause":
		if !null {
			e.Cause = new(int64)
			err = json.Unmarshal(raw, e.Cause)
		}
	case "tool_call_metadata":
		if !null {
			e.ToolCallMetadata = new(ToolCallMetadata)
			err = json.Unmarshal(raw, e.ToolCallMetadata)
		}
	case "llm_metrics":
		if !null {
			e.LLMMetrics = new(Metrics)
			err = json.Unmarshal(raw, e.LLMMetrics)
		}
	case "timeout":
		if !null && e.Action != nil {
			e.Timeout = new(float64)
			err = json.Unmarshal(raw, e.Timeout)
		}
	case "content":
		if !null && e.Observation != nil {
			err = json.Unmarshal(raw, e.Observation.text())
		}
	default:
		if e.Unknown == nil {
			e.Unknown = map[string]RawJSON{}
		}
		e.Unknown[k] = raw
	}
	if err != nil {
		return malformed("%q: %v", k, err)
	}
	return nil
}

func (e *Event) decodeArgs(raw RawJSON) error {
	t := e.Action.ActionType()
	fields, err := objectFields(raw)
	if err != nil {
		return malformed("%s action args: %v", t, err)
	}
	legacy := hasAny(fields, "timestamp", "is_confirmed", "images_urls", "keep_prompt", "translated_ipython_code")
	// Migrations OpenHands applies to older streams (openhands/events/serialization/action.py).
	if ts, ok := fields["timestamp"]; ok {
		delete(fields, "timestamp")
		var s string
		if json.Unmarshal(ts, &s) == nil && s != "" && e.Timestamp == "" {
			e.Timestamp = s
		}
	}
	if v, ok := fields["is_confirmed"]; ok {
		delete(fields, "is_confirmed")
		if !isNull(v) {
			fields["confirmation_state"] = v
		}
	}
	if v, ok := fields["images_urls"]; ok {
		delete(fields, "images_urls")
		fields["image_urls"] = v
	}
	delete(fields, "keep_prompt")
	if v, ok := fields["translated_ipython_code"]; ok {
		delete(fields, "translated_ipython_code")
		migrateTranslatedIPython(v, fields)
	}
	return e.decodeFields(e.Action, fields, raw, legacy, fmt.Sprintf("%s action args", t))
}

func (e *Event) decodeExtras(raw RawJSON) error {
	t := e.Observation.ObservationType()
	fields, err := objectFields(raw)
	if err != nil {
		return malformed("%s observation extras: %v", t, err)
	}
	legacy := hasAny(fields, "exit_code", "command_id", "formatted_output_and_error")
	// Migrations OpenHands applies to older streams (openhands/events/serialization/observation.py).
	exitCode, hasExit := fields["exit_code"]
	pid, hasPID := fields["command_id"]
	if hasExit || hasPID {
		delete(fields, "exit_code")
		delete(fields, "command_id")
		meta := map[string]RawJSON{}
		if m, ok := fields["metadata"]; ok && !isNull(m) {
			if err := json.Unmarshal(m, &meta); err != nil {
				return malformed("%s observation extras: metadata: %v", t, err)
			}
		}
		if hasExit {
			meta["exit_code"] = exitCode
		}
		if hasPID {
			meta["pid"] = pid
		}
		b, _ := json.Marshal(meta)
		fields["metadata"] = b
	}
	delete(fields, "formatted_output_and_error")
	return e.decodeFields(e.Observation, fields, raw, legacy,
		fmt.Sprintf("%s observation extras", t))
}

// decodeFields fills v from fields, moving keys v does not have into e.UnknownFields.
func (e *Event) decodeFields(v any, fields map[string]RawJSON, raw RawJSON, rewritten bool, what string) error {
	known := fieldNames(v)
	for k, val := range fields {
		if !known[k] {
			if e.UnknownFields == nil {
				e.UnknownFields = map[string]RawJSON{}
			}
			e.UnknownFields[k] = val
			delete(fields, k)
		}
	}
	var err error
	switch {
	case len(fields) == 0:
	case !rewritten && len(e.UnknownFields) == 0:
		err = json.Unmarshal(raw, v) // every key is an exact match: decode in one pass
	default:
		// Only exact key matches may reach the struct: encoding/json alone would also take "Command"
		// for "command".
		b, _ := json.Marshal(fields)
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return malformed("%s: %v", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func objectFields(raw RawJSON) (map[string]RawJSON, error) {
	fields := map[string]RawJSON{}
	if len(raw) == 0 || isNull(raw) {
		return fields, nil
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %s", clip(raw))
	}
	return fields, nil
}

func hasAny(fields map[string]RawJSON, keys ...string) bool {
	for _, k := range keys {
		if _, ok := fields[k]; ok {
			return true
		}
	}
	return false
}

func isNull(raw RawJSON) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// clip shortens raw JSON for an error message.
func clip(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}
