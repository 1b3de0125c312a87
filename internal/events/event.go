package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/jsonx"
)

// RawJSON is a JSON value kept as written: opaque objects (an MCP tool's arguments, an LLM's whole
// response) must survive a round trip byte for byte.
type RawJSON = json.RawMessage

// Event is one action or one observation with its envelope. Exactly one of Action and Observation
// is set. An Event delivered by a Stream is shared by every subscriber: treat it as read-only, or
// Clone it first.
type Event struct {
	// ID is the position in the conversation's stream, from 0; -1 until the event is appended.
	ID int64
	// Timestamp is OpenHands' format: local wall-clock time without a zone (see FormatTimestamp).
	Timestamp string
	Source    Source
	// Cause is the id of the action an observation answers.
	Cause            *int64
	ToolCallMetadata *ToolCallMetadata
	LLMMetrics       *Metrics
	// Timeout is an action's hard timeout in seconds.
	Timeout *float64

	Action      Action
	Observation Observation

	// Unknown keeps top-level keys this version does not know, and UnknownFields keys of args or
	// extras it does not know, so that nothing read is lost when the event is written again.
	// Decoding reports them through UnknownKeys; gohands itself never creates them.
	Unknown       map[string]RawJSON
	UnknownFields map[string]RawJSON
}

// ToolCallMetadata ties an event to the LLM tool call that produced it (or that it answers).
type ToolCallMetadata struct {
	FunctionName         string  `json:"function_name"`
	ToolCallID           string  `json:"tool_call_id"`
	ModelResponse        RawJSON `json:"model_response"`
	TotalCallsInResponse int     `json:"total_calls_in_response"`
}

// TokenUsage counts tokens of one LLM call or of a whole conversation.
type TokenUsage struct {
	Model            string `json:"model"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	CacheReadTokens  int    `json:"cache_read_tokens"`
	CacheWriteTokens int    `json:"cache_write_tokens"`
	ContextWindow    int    `json:"context_window"`
	PerTurnToken     int    `json:"per_turn_token"`
	ResponseID       string `json:"response_id"`
}

// Cost is the price of one LLM call.
type Cost struct {
	Model     string  `json:"model"`
	Cost      float64 `json:"cost"`
	Timestamp float64 `json:"timestamp"`
}

// ResponseLatency is the latency of one LLM call in seconds.
type ResponseLatency struct {
	Model      string  `json:"model"`
	Latency    float64 `json:"latency"`
	ResponseID string  `json:"response_id"`
}

// Metrics is the "llm_metrics" of agent events: accumulated cost and token usage.
type Metrics struct {
	AccumulatedCost       float64           `json:"accumulated_cost"`
	MaxBudgetPerTask      *float64          `json:"max_budget_per_task"`
	AccumulatedTokenUsage TokenUsage        `json:"accumulated_token_usage"`
	Costs                 []Cost            `json:"costs"`
	ResponseLatencies     []ResponseLatency `json:"response_latencies"`
	TokenUsages           []TokenUsage      `json:"token_usages"`
}

// NewAction wraps an action in an event that is not yet in a stream.
func NewAction(a Action) *Event { return &Event{ID: -1, Action: a} }

// NewObservation wraps an observation in an event that is not yet in a stream.
func NewObservation(o Observation, content string) *Event {
	*o.text() = content
	return &Event{ID: -1, Observation: o}
}

// Type is the action or observation type.
func (e *Event) Type() string {
	switch {
	case e.Action != nil:
		return string(e.Action.ActionType())
	case e.Observation != nil:
		return string(e.Observation.ObservationType())
	}
	return ""
}

// Message is the derived "message" text.
func (e *Event) Message() string {
	switch {
	case e.Action != nil:
		return e.Action.Message()
	case e.Observation != nil:
		return e.Observation.Message()
	}
	return ""
}

// Content is an observation's content ("" for actions).
func (e *Event) Content() string {
	if e.Observation == nil {
		return ""
	}
	return *e.Observation.text()
}

// Hidden reports whether the event is hidden from the UI and the agent's history.
func (e *Event) Hidden() bool {
	switch v := e.Action.(type) {
	case *CmdRunAction:
		return v.Hidden
	}
	switch v := e.Observation.(type) {
	case *CmdOutputObservation:
		return v.Hidden
	}
	return false
}

// Clone returns a deep copy.
func (e *Event) Clone() *Event {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("events: clone of an event that cannot be encoded: %v", err))
	}
	c := new(Event)
	if err := json.Unmarshal(b, c); err != nil {
		panic(fmt.Sprintf("events: clone of an event that cannot be decoded: %v", err))
	}
	return c
}

// UnknownKeys lists keys the decoder did not know ("args.foo", "extras.bar", "baz"), sorted.
func (e *Event) UnknownKeys() []string {
	var keys []string
	for k := range e.Unknown {
		keys = append(keys, k)
	}
	prefix := "extras."
	if e.Action != nil {
		prefix = "args."
	}
	for k := range e.UnknownFields {
		keys = append(keys, prefix+k)
	}
	slices.Sort(keys)
	return keys
}

// FormatTimestamp formats t as OpenHands does (Python's datetime.isoformat() of a naive local time):
// microseconds, omitted when they are exactly zero.
func FormatTimestamp(t time.Time) string {
	t = t.Local()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// Marshal encodes an event as OpenHands writes it (see MarshalJSON), leaving <, > and & unescaped.
// Prefer it to json.Marshal, which re-escapes them.
func Marshal(e *Event) ([]byte, error) { return e.appendJSON(nil) }

// MarshalJSON writes the event in OpenHands' key order:
// id, timestamp, source, message, cause, action|observation, tool_call_metadata, llm_metrics,
// then args and timeout for actions, or content, extras and success for observations.
func (e *Event) MarshalJSON() ([]byte, error) {
	return e.appendJSON(nil)
}

func (e *Event) appendJSON(buf []byte) ([]byte, error) {
	if (e.Action == nil) == (e.Observation == nil) {
		return nil, errors.New("events: an event must hold exactly one action or observation")
	}
	buf = append(buf, '{')
	if e.ID >= 0 {
		buf = append(buf, `"id":`...)
		buf = strconv.AppendInt(buf, e.ID, 10)
		buf = append(buf, ',')
	}
	if e.Timestamp != "" {
		buf = append(buf, `"timestamp":`...)
		buf = appendString(buf, e.Timestamp)
		buf = append(buf, ',')
	}
	if e.Source != "" {
		buf = append(buf, `"source":`...)
		buf = appendString(buf, string(e.Source))
		buf = append(buf, ',')
	}
	buf = append(buf, `"message":`...)
	buf = appendString(buf, e.Message())
	if e.Cause != nil {
		buf = append(buf, `,"cause":`...)
		buf = strconv.AppendInt(buf, *e.Cause, 10)
	}
	if e.Action != nil {
		buf = append(buf, `,"action":`...)
		buf = appendString(buf, string(e.Action.ActionType()))
	} else {
		buf = append(buf, `,"observation":`...)
		buf = appendString(buf, string(e.Observation.ObservationType()))
	}
	var err error
	if e.ToolCallMetadata != nil {
		buf = append(buf, `,"tool_call_metadata":`...)
		if buf, err = appendValue(buf, e.ToolCallMetadata); err != nil {
			return nil, fmt.Errorf("events: encode tool_call_metadata: %w", err)
		}
	}
	if e.LLMMetrics != nil {
		buf = append(buf, `,"llm_metrics":`...)
		if buf, err = appendValue(buf, e.LLMMetrics); err != nil {
			return nil, fmt.Errorf("events: encode llm_metrics: %w", err)
		}
	}
	if e.Action != nil {
		buf = append(buf, `,"args":`...)
		if buf, err = appendFields(buf, e.Action, e.UnknownFields); err != nil {
			return nil, fmt.Errorf("events: encode %s args: %w", e.Action.ActionType(), err)
		}
		if e.Timeout != nil {
			if math.IsNaN(*e.Timeout) || math.IsInf(*e.Timeout, 0) {
				return nil, fmt.Errorf("events: timeout %v is not a number JSON can hold", *e.Timeout)
			}
			buf = append(buf, `,"timeout":`...)
			buf = appendPyFloat(buf, *e.Timeout)
		}
	} else {
		buf = append(buf, `,"content":`...)
		buf = appendString(buf, *e.Observation.text())
		buf = append(buf, `,"extras":`...)
		if buf, err = appendFields(buf, e.Observation, e.UnknownFields); err != nil {
			return nil, fmt.Errorf("events: encode %s extras: %w", e.Observation.ObservationType(), err)
		}
		switch o := e.Observation.(type) {
		case *CmdOutputObservation:
			buf = append(buf, `,"success":`...)
			buf = strconv.AppendBool(buf, o.Success())
		case *IPythonRunCellObservation:
			buf = append(buf, `,"success":true`...)
		}
	}
	for _, k := range sortedKeys(e.Unknown) {
		buf = append(buf, ',')
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = append(buf, e.Unknown[k]...)
	}
	return append(buf, '}'), nil
}

// appendFields writes v's JSON object with the unknown fields spliced in before the closing brace.
func appendFields(buf []byte, v any, unknown map[string]RawJSON) ([]byte, error) {
	start := len(buf)
	buf, err := appendValue(buf, v)
	if err != nil || len(unknown) == 0 {
		return buf, err
	}
	buf = buf[:len(buf)-1] // drop '}'
	empty := len(buf)-start == 1
	for _, k := range sortedKeys(unknown) {
		if !empty {
			buf = append(buf, ',')
		}
		empty = false
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = append(buf, unknown[k]...)
	}
	return append(buf, '}'), nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendValue encodes v without escaping <, > and & (so "<secret_hidden>" stays readable on disk).
func appendValue(buf []byte, v any) ([]byte, error) {
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return buf, err
	}
	out := b.Bytes()
	return append(buf, out[:len(out)-1]...), nil // Encode adds a newline
}

// appendString writes s as a JSON string without HTML escaping (see jsonx.AppendString).
func appendString(buf []byte, s string) []byte { return jsonx.AppendString(buf, s) }

// appendPyFloat writes a float the way Python's json does: always with a fraction or exponent.
func appendPyFloat(buf []byte, f float64) []byte {
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'g', -1, 64)
	if !bytes.ContainsAny(buf[start:], ".eE") {
		buf = append(buf, ".0"...)
	}
	return buf
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fieldNames returns the JSON keys of a struct type's fields, cached per type.
func fieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if cached, ok := fieldNameCache.Load(t); ok {
		return cached.(map[string]bool)
	}
	names := map[string]bool{}
	st := t.Elem()
	for i := range st.NumField() {
		tag := st.Field(i).Tag.Get("json")
		name, _, _ := bytes.Cut([]byte(tag), []byte(","))
		if len(name) > 0 && string(name) != "-" {
			names[string(name)] = true
		}
	}
	fieldNameCache.Store(t, names)
	return names
}

var fieldNameCache sync.Map // reflect.Type → map[string]bool
