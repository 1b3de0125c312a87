package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// openHandsSettings is a settings.json as OpenHands 0.50 writes it: compact, keys in model order,
// secrets in clear text, sandbox_api_key as the literal mask. One shttp server uses the bare URL
// form that OpenHands accepts on input.
const openHandsSettings = `{"language":"en","agent":"CodeActAgent","max_iterations":null,"security_analyzer":null,` +
	`"confirmation_mode":false,"llm_model":"anthropic/claude-sonnet-4-20250514",` +
	`"llm_api_key":"sk-ant-api03-Zq8xLLMKEYcleartext","llm_base_url":"","remote_runtime_resource_factor":1,` +
	`"secrets_store":{"provider_tokens":{}},"enable_default_condenser":true,"enable_sound_notifications":false,` +
	`"enable_proactive_conversation_starters":false,"user_consents_to_analytics":true,` +
	`"sandbox_base_container_image":null,"sandbox_runtime_container_image":null,` +
	`"mcp_config":{"sse_servers":[{"url":"https://mcp.example.com/sse","api_key":"mcp-SSEKEY-cleartext"}],` +
	`"stdio_servers":[{"name":"fetch","command":"uvx","args":["mcp-server-fetch"],"env":{"FETCH_TOKEN":"ENVTOKEN-cleartext"}}],` +
	`"shttp_servers":["https://mcp.example.com/mcp"]},"search_api_key":"tvly-SEARCHKEY-cleartext",` +
	`"sandbox_api_key":"**********","max_budget_per_task":5.0,"email":null,"email_verified":null}`

var openHandsClearSecrets = []string{"sk-ant-api03-Zq8xLLMKEYcleartext", "mcp-SSEKEY-cleartext", "ENVTOKEN-cleartext", "tvly-SEARCHKEY-cleartext"}

func ptr[T any](v T) *T { return &v }

// assertNoSecretOnDisk fails if any secret appears in the bytes of settings.json or anything under
// secrets/.
func assertNoSecretOnDisk(t *testing.T, s *Store, secrets ...string) {
	t.Helper()
	files := []string{s.settingsPath()}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "secrets"))
	for _, e := range entries {
		files = append(files, filepath.Join(s.Root(), "secrets", e.Name()))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, sec := range secrets {
			if bytes.Contains(data, []byte(sec)) {
				t.Errorf("%s contains a secret in clear text", f)
			}
		}
	}
}

// jsonKeys returns the top-level keys of a JSON object in file order.
func jsonKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestSettingsReadOpenHandsFile(t *testing.T) {
	s := openStore(t)
	if err := os.WriteFile(s.settingsPath(), []byte(openHandsSettings), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		Language:                    ptr("en"),
		Agent:                       ptr("CodeActAgent"),
		ConfirmationMode:            ptr(false),
		LLMModel:                    ptr("anthropic/claude-sonnet-4-20250514"),
		LLMAPIKey:                   ptr("sk-ant-api03-Zq8xLLMKEYcleartext"),
		LLMBaseURL:                  ptr(""),
		RemoteRuntimeResourceFactor: ptr(1),
		SecretsStore:                SecretsStore{ProviderTokens: map[string]ProviderToken{}},
		EnableDefaultCondenser:      true,
		UserConsentsToAnalytics:     ptr(true),
		MCPConfig: &MCPConfig{
			SSEServers:   []MCPRemoteServer{{URL: "https://mcp.example.com/sse", APIKey: ptr("mcp-SSEKEY-cleartext")}},
			StdioServers: []MCPStdioServer{{Name: "fetch", Command: "uvx", Args: []string{"mcp-server-fetch"}, Env: map[string]string{"FETCH_TOKEN": "ENVTOKEN-cleartext"}}},
			SHTTPServers: []MCPRemoteServer{{URL: "https://mcp.example.com/mcp"}},
		},
		SearchAPIKey:     ptr("tvly-SEARCHKEY-cleartext"),
		SandboxAPIKey:    nil, // OpenHands' literal mask is not a key
		MaxBudgetPerTask: ptr(5.0),
	}
	if !reflect.DeepEqual(st, want) {
		got, _ := json.Marshal(st)
		exp, _ := json.Marshal(want)
		t.Fatalf("loaded settings:\n got %s\nwant %s", got, exp)
	}

	// Saving encrypts every secret in place; loading gives the same settings back.
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	assertNoSecretOnDisk(t, s, openHandsClearSecrets...)
	data, err := os.ReadFile(s.settingsPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"llm_api_key":"`+encPrefix)) || !bytes.Contains(data, []byte(`"search_api_key":"`+encPrefix)) {
		t.Errorf("secret fields not encrypted in place: %s", data)
	}
	if got, want := jsonKeys(t, data), jsonKeys(t, []byte(openHandsSettings)); !reflect.DeepEqual(got, want) {
		t.Errorf("key order\n got %v\nwant %v", got, want)
	}
	if m := mode(t, s.settingsPath()); m != 0o600 {
		t.Errorf("settings.json mode %v, want 0600", m)
	}
	again, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, st) {
		t.Error("settings changed across save and load")
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	s := openStore(t)
	in := &Settings{
		Language:                            ptr("fr"),
		Agent:                               ptr("CodeActAgent"),
		MaxIterations:                       ptr(250),
		SecurityAnalyzer:                    ptr("invariant"),
		ConfirmationMode:                    ptr(true),
		LLMModel:                            ptr("openai/gpt-4o"),
		LLMAPIKey:                           ptr("sk-roundtrip-LLM"),
		LLMBaseURL:                          ptr("http://localhost:11434/v1"),
		RemoteRuntimeResourceFactor:         ptr(2),
		SecretsStore:                        SecretsStore{ProviderTokens: map[string]ProviderToken{"github": {Token: "ghp_LEGACYTOKEN", Host: ptr("github.com")}}},
		EnableDefaultCondenser:              false,
		EnableSoundNotifications:            true,
		EnableProactiveConversationStarters: true,
		UserConsentsToAnalytics:             ptr(false),
		SandboxBaseContainerImage:           ptr("python:3.12-bookworm"),
		SandboxRuntimeContainerImage:        ptr("ghcr.io/example/runtime:1"),
		MCPConfig: &MCPConfig{
			SSEServers:   []MCPRemoteServer{},
			StdioServers: []MCPStdioServer{},
			SHTTPServers: []MCPRemoteServer{{URL: "https://x.example/mcp", APIKey: ptr("SHTTP-KEY")}},
		},
		SearchAPIKey:     ptr(""), // an empty string is a value, not null
		SandboxAPIKey:    ptr("SANDBOX-KEY"),
		MaxBudgetPerTask: ptr(1.25),
		Email:            ptr("dev@example.com"),
		EmailVerified:    ptr(true),
	}
	before, _ := json.Marshal(in)
	if err := s.SaveSettings(in); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(in); !bytes.Equal(before, after) {
		t.Error("SaveSettings modified its argument")
	}
	assertNoSecretOnDisk(t, s, "sk-roundtrip-LLM", "ghp_LEGACYTOKEN", "SHTTP-KEY", "SANDBOX-KEY")
	out, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		got, _ := json.Marshal(out)
		t.Errorf("round trip:\n got %s\nwant %s", got, before)
	}
}

func TestSettingsDefaults(t *testing.T) {
	var st Settings
	if err := json.Unmarshal([]byte(`{"language":"fr","unknown_key":1}`), &st); err != nil {
		t.Fatal(err)
	}
	want := NewSettings()
	want.Language = ptr("fr")
	if !reflect.DeepEqual(&st, want) {
		t.Errorf("got %+v, want %+v", st, want)
	}
	data, err := json.Marshal(NewSettings())
	if err != nil {
		t.Fatal(err)
	}
	// The shape OpenHands writes for a fresh model.
	const fresh = `{"language":null,"agent":null,"max_iterations":null,"security_analyzer":null,"confirmation_mode":null,` +
		`"llm_model":null,"llm_api_key":null,"llm_base_url":null,"remote_runtime_resource_factor":null,` +
		`"secrets_store":{"provider_tokens":{}},"enable_default_condenser":true,"enable_sound_notifications":false,` +
		`"enable_proactive_conversation_starters":true,"user_consents_to_analytics":null,` +
		`"sandbox_base_container_image":null,"sandbox_runtime_container_image":null,"mcp_config":null,` +
		`"search_api_key":null,"sandbox_api_key":null,"max_budget_per_task":null,"email":null,"email_verified":null}`
	if string(data) != fresh {
		t.Errorf("fresh settings JSON\n got %s\nwant %s", data, fresh)
	}
	mcp, _ := json.Marshal(MCPConfig{StdioServers: []MCPStdioServer{{Name: "n", Command: "c"}}})
	if want := `{"sse_servers":[],"stdio_servers":[{"name":"n","command":"c","args":[],"env":{}}],"shttp_servers":[]}`; string(mcp) != want {
		t.Errorf("mcp JSON\n got %s\nwant %s", mcp, want)
	}
}

func TestSettingsNotFoundAndDelete(t *testing.T) {
	s := openStore(t)
	if _, err := s.LoadSettings(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadSettings on empty store: %v, want ErrNotFound", err)
	}
	if err := s.SaveSettings(NewSettings()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSettings(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSettings(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSettings(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSettings(); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if err := s.SaveSettings(nil); err == nil {
		t.Error("SaveSettings(nil) succeeded")
	}
}

func TestLoadSettingsInvalidJSONLeavesFileAlone(t *testing.T) {
	s := openStore(t)
	if err := s.SaveSecrets(&Secrets{CustomSecrets: map[string]CustomSecret{"K": {Secret: "v"}}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"language":"en",`, `not json`, `[]`, `{"max_iterations":"many"}`, ``} {
		if err := os.WriteFile(s.settingsPath(), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, s.Root())
		_, err := s.LoadSettings()
		if err == nil {
			t.Errorf("%q: LoadSettings succeeded", bad)
			continue
		}
		if errors.Is(err, ErrNotFound) {
			t.Errorf("%q: invalid file reported as not found", bad)
		}
		if !strings.Contains(err.Error(), s.settingsPath()) {
			t.Errorf("%q: error %q does not name the file", bad, err)
		}
		sameSnapshot(t, before, snapshot(t, s.Root()))
	}
	if sec, err := s.LoadSecrets(); err != nil || sec.CustomSecrets["K"].Secret != "v" {
		t.Errorf("secrets damaged: %v %v", sec, err)
	}
}

func TestLoadSettingsWrongKey(t *testing.T) {
	a := openStore(t)
	b := openStore(t)
	const secret = "sk-WRONGKEY-secret-value"
	tests := []struct {
		name  string
		st    *Settings
		field string
	}{
		{"llm key", &Settings{LLMAPIKey: ptr(secret)}, "llm_api_key"},
		{"sandbox key", &Settings{SandboxAPIKey: ptr(secret)}, "sandbox_api_key"},
		{"mcp env", &Settings{MCPConfig: &MCPConfig{StdioServers: []MCPStdioServer{{Name: "x", Env: map[string]string{"TOK": secret}}}}}, "mcp_config.stdio_servers[0].env.TOK"},
		{"legacy token", &Settings{SecretsStore: SecretsStore{ProviderTokens: map[string]ProviderToken{"gitlab": {Token: secret}}}}, "secrets_store.provider_tokens.gitlab.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := a.SaveSettings(tt.st); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(a.settingsPath())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(b.settingsPath(), data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = b.LoadSettings()
			if err == nil {
				t.Fatal("loaded settings encrypted with another key")
			}
			msg := err.Error()
			if !strings.Contains(msg, b.settingsPath()) || !strings.Contains(msg, tt.field) {
				t.Errorf("error %q should name the file and field %s", msg, tt.field)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, encPrefix) {
				t.Errorf("error %q leaks the value", msg)
			}
			if after, _ := os.ReadFile(b.settingsPath()); !bytes.Equal(after, data) {
				t.Error("settings.json changed by a failed load")
			}
		})
	}
	// A tampered value: same key, broken ciphertext.
	if err := a.SaveSettings(&Settings{LLMAPIKey: ptr(secret)}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(a.settingsPath())
	i := bytes.Index(data, []byte(encPrefix)) + len(encPrefix) + 20
	data[i] ^= 1
	if err := os.WriteFile(a.settingsPath(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoadSettings(); err == nil || !strings.Contains(err.Error(), "llm_api_key") {
		t.Errorf("tampered ciphertext: err = %v", err)
	}
}

// TestFailedWriteLeavesNothing makes the final rename fail (a directory sits where the file goes)
// and checks that the error names the file, the old state is intact and no temporary file remains.
func TestFailedWriteLeavesNothing(t *testing.T) {
	s := openStore(t)
	if err := os.MkdirAll(filepath.Join(s.settingsPath(), "blocker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.secretsPath(), "blocker"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s.Root())
	if err := s.SaveSettings(&Settings{LLMAPIKey: ptr("k")}); err == nil || !strings.Contains(err.Error(), s.settingsPath()) {
		t.Errorf("SaveSettings over a directory: %v", err)
	}
	if err := s.SaveSecrets(&Secrets{}); err == nil || !strings.Contains(err.Error(), s.secretsPath()) {
		t.Errorf("SaveSecrets over a directory: %v", err)
	}
	sameSnapshot(t, before, snapshot(t, s.Root()))

	// And after successful writes, no temporary files either.
	s = openStore(t)
	for range 3 {
		if err := s.SaveSettings(NewSettings()); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSecrets(&Secrets{}); err != nil {
			t.Fatal(err)
		}
	}
	for p := range snapshot(t, s.Root()) {
		if strings.Contains(p, tmpPrefix) {
			t.Errorf("temporary file left: %s", p)
		}
	}
}
