package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// secretMask is what a set secret prints as; OpenHands uses the same ten stars.
const secretMask = "**********"

// Secret holds a credential (an API key, a signing secret). Every way of
// printing it — fmt verbs including %#v, slog, JSON, TOML — shows a mask
// instead of the value, so a Config can be logged as a whole. Only Reveal
// returns the value.
type Secret struct {
	value string
}

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret value. Call it only where the value is used.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

// String returns the mask, or "" when the secret is unset.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return secretMask
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, %d…) print the mask.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the mask (or "" when unset).
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText writes the mask (or "" when unset); TOML encoders use it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SecretMap is a string map whose values may be credentials: environment
// variables for the sandbox or an MCP server, HTTP headers. Printing it shows
// the keys with masked values.
type SecretMap map[string]string

func (m SecretMap) masked() map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = NewSecret(v).String()
	}
	return out
}

// Format prints the map with masked values, whatever the verb.
func (m SecretMap) Format(f fmt.State, verb rune) { fmt.Fprint(f, m.masked()) }

// LogValue implements slog.LogValuer.
func (m SecretMap) LogValue() slog.Value { return slog.AnyValue(m.masked()) }

// MarshalJSON writes the map with masked values.
func (m SecretMap) MarshalJSON() ([]byte, error) { return json.Marshal(m.masked()) }
