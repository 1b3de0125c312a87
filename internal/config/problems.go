package config

import (
	"fmt"
	"strconv"
)

// Warning is a problem that does not stop loading: an unknown key or section
// (OpenHands ignores those too, and its own template contains some), a
// deprecated setting, a reference to an LLM group that does not exist.
type Warning struct {
	File string // config file as named by the caller; "" when not from a file
	Line int    // 1-based; 0 when unknown
	Key  string // dotted key the warning is about, e.g. "core.max_iteration"
	Msg  string // human-readable, includes the key
}

// String renders the warning as "file:line: message".
func (w Warning) String() string {
	switch {
	case w.File == "":
		return w.Msg
	case w.Line == 0:
		return w.File + ": " + w.Msg
	default:
		return w.File + ":" + strconv.Itoa(w.Line) + ": " + w.Msg
	}
}

// Error is a bad value that stops loading: malformed TOML, a wrong type, an
// unconvertible environment variable, a value Validate rejects. Load joins
// one *Error per problem with errors.Join; only a config file that cannot
// be read gives a plain error.
type Error struct {
	// Source says where the bad value came from: "config.toml:12:1",
	// "env MAX_ITERATIONS", "override sandbox.timeout".
	Source string
	// Key is the dotted config key ("core.max_iterations"); "" for errors
	// that are not about one key, such as TOML syntax errors.
	Key string
	Err error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Source + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: %s: %v", e.Source, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
