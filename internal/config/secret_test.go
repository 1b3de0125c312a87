package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// secretValues are every secret set in testdata/full.toml.
var secretValues = []string{
	"hook-secret-1", "search-secret-2", "jwt-secret-3", "sk-ant-secret-4", "AKIA-secret-5", "aws-secret-6",
	"sk-ant-secret-7", "sandbox-secret-8", "gh-secret-9", "mcp-secret-10", "mcp-secret-11", "mcp-secret-12",
}

// The loaded config can be printed and logged in every usual way without
// revealing a secret.
func TestSecretsNeverPrinted(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{Path: "testdata/full.toml"})
	if cfg.LLM.APIKey.Reveal() != "sk-ant-secret-4" {
		t.Fatal("fixture secret not loaded")
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "config", cfg)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("config", "config", cfg)
	slog.New(slog.NewTextHandler(&text, nil)).Info("parts", "llm", cfg.LLM, "key", cfg.LLM.APIKey, "env", cfg.Sandbox.RuntimeStartupEnvVars)

	outputs := map[string]string{
		"String":        cfg.String(),
		"Dump":          cfg.Dump(),
		"%v":            fmt.Sprintf("%v", cfg),
		"%+v":           fmt.Sprintf("%+v", cfg),
		"%v value":      fmt.Sprintf("%v", *cfg),
		"%#v":           fmt.Sprintf("%#v", cfg),
		"%+v llm":       fmt.Sprintf("%+v", cfg.LLM),
		"%#v llm":       fmt.Sprintf("%#v", cfg.LLM),
		"%+v mcp":       fmt.Sprintf("%+v", cfg.MCP),
		"%s key":        fmt.Sprintf("%s", cfg.LLM.APIKey),
		"%q key":        fmt.Sprintf("%q", cfg.LLM.APIKey),
		"%x key":        fmt.Sprintf("%x", cfg.LLM.APIKey),
		"%d key":        fmt.Sprintf("%d", cfg.LLM.APIKey),
		"%v env map":    fmt.Sprintf("%v", cfg.Sandbox.RuntimeStartupEnvVars),
		"json":          string(js),
		"slog text":     text.String(),
		"slog json":     jsonLog.String(),
		"Println value": fmt.Sprintln(cfg.Core),
	}
	for name, out := range outputs {
		for _, s := range secretValues {
			if strings.Contains(out, s) {
				t.Errorf("%s output reveals %q:\n%s", name, s, out)
			}
		}
		if !strings.Contains(out, secretMask) {
			t.Errorf("%s output shows no mask; is the secret there at all?\n%s", name, out)
		}
	}
	// Non-secret values still show, so the output is useful.
	if !strings.Contains(outputs["slog json"], "anthropic/claude-sonnet-4-20250514") || !strings.Contains(outputs["%v env map"], "MODE") {
		t.Error("printing hides non-secret values too")
	}
}

func TestSecret(t *testing.T) {
	var unset Secret
	if unset.IsSet() || unset.String() != "" || fmt.Sprint(unset) != "" {
		t.Errorf("unset secret prints %q", fmt.Sprint(unset))
	}
	s := NewSecret("v")
	if !s.IsSet() || s.Reveal() != "v" || s.String() != secretMask {
		t.Errorf("NewSecret(v): IsSet %t, Reveal %q, String %q", s.IsSet(), s.Reveal(), s.String())
	}
	if b, _ := json.Marshal(s); string(b) != `"**********"` {
		t.Errorf("JSON = %s", b)
	}
}
