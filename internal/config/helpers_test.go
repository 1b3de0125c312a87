package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes body as config.toml in a fresh directory and returns
// its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// env builds a lookup function from a map, standing in for os.LookupEnv.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// mustLoad loads and fails the test on error.
func mustLoad(t *testing.T, opts LoadOptions) (*Config, []Warning) {
	t.Helper()
	if opts.Env == nil {
		opts.Env = env(map[string]string{"HOME": "/home/tester"})
	}
	cfg, warns, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg, warns
}

// loadErr loads expecting an error and returns its text.
func loadErr(t *testing.T, opts LoadOptions) string {
	t.Helper()
	cfg, _, err := Load(opts)
	if err == nil {
		t.Fatalf("Load succeeded, want an error; config:\n%s", cfg)
	}
	if cfg != nil {
		t.Errorf("Load returned a config along with error %v", err)
	}
	return err.Error()
}

func warningsText(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
