package events

import (
	"bytes"
	"reflect"
	"slices"
)

// Filter selects events from a stream, as OpenHands' EventStore.search_events and EventFilter do.
// The zero value selects everything, oldest first.
type Filter struct {
	// StartID and EndID bound the ids, both inclusive; EndID < 0 means up to the latest event.
	StartID int64
	EndID   int64
	Reverse bool
	// Limit stops after this many matches; 0 means no limit.
	Limit int

	// IncludeTypes and ExcludeTypes name event classes as OpenHands does ("CmdRunAction",
	// "AgentStateChangedObservation"), or kinds as the wire does ("action:run", "observation:run").
	IncludeTypes []string
	ExcludeTypes []string
	Source       Source
	// Query is a case-insensitive substring of the event's JSON text.
	Query         string
	ExcludeHidden bool
	// StartDate and EndDate compare with the event timestamp as strings, as OpenHands does.
	StartDate string
	EndDate   string
}

// All is the filter that selects every event.
var All = Filter{EndID: -1}

// ClassName is the OpenHands class name of an event's action or observation ("CmdRunAction").
func ClassName(e *Event) string {
	var v any = e.Action
	if e.Action == nil {
		v = e.Observation
	}
	if v == nil {
		return ""
	}
	return reflect.TypeOf(v).Elem().Name()
}

func kindName(e *Event) string {
	if e.Action != nil {
		return "action:" + e.Type()
	}
	return "observation:" + e.Type()
}

func (f *Filter) matchesType(e *Event, names []string) bool {
	return slices.Contains(names, ClassName(e)) || slices.Contains(names, kindName(e))
}

// Match reports whether e passes every criterion except the id range and limit. raw is the event's
// JSON text, used by Query.
func (f *Filter) Match(e *Event, raw []byte) bool {
	if f.ExcludeHidden && e.Hidden() {
		return false
	}
	if len(f.IncludeTypes) > 0 && !f.matchesType(e, f.IncludeTypes) {
		return false
	}
	if len(f.ExcludeTypes) > 0 && f.matchesType(e, f.ExcludeTypes) {
		return false
	}
	if f.Source != "" && e.Source != f.Source {
		return false
	}
	if f.StartDate != "" && e.Timestamp < f.StartDate {
		return false
	}
	if f.EndDate != "" && e.Timestamp > f.EndDate {
		return false
	}
	if f.Query != "" && !bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(f.Query))) {
		return false
	}
	return true
}
