package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/storage"
)

type fixture struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	store *storage.Store
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	cfg.LLM.Model = "custom/my-model"
	srv := New(cfg, store, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{t: t, srv: srv, ts: ts, store: store}
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(method, path, body string, hdr ...string) (*http.Response, string) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(data)
}

func (f *fixture) expect(method, path, body string, status int, wantBody string) string {
	f.t.Helper()
	resp, got := f.do(method, path, body)
	if resp.StatusCode != status {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, status, got)
	}
	if wantBody != "" && strings.TrimSpace(got) != wantBody {
		f.t.Fatalf("%s %s: body %s, want %s", method, path, got, wantBody)
	}
	return got
}

func TestHealth(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("GET", "/alive", "", 200, `{"status":"ok"}`)
	f.expect("GET", "/health", "", 200, `"OK"`)
	body := f.expect("GET", "/server_info", "", 200, "")
	var info serverInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"uptime", "idle_time", "cpu_percent", "rss", "vms", "total", "read_bytes", "write_bytes"} {
		if !strings.Contains(body, `"`+key+`"`) {
			t.Errorf("server_info lacks %s: %s", key, body)
		}
	}
}

func TestOptions(t *testing.T) {
	f := newFixture(t, Options{GitHubClientID: "gh-id"})
	var models []string
	if err := json.Unmarshal([]byte(f.expect("GET", "/api/options/models", "", 200, "")), &models); err != nil {
		t.Fatal(err)
	}
	if !contains(models, "custom/my-model") || !contains(models, "openhands/claude-sonnet-4-20250514") {
		t.Errorf("models = %v", models)
	}
	for i := 1; i < len(models); i++ {
		if models[i-1] >= models[i] {
			t.Errorf("models not sorted and unique at %d: %q %q", i, models[i-1], models[i])
		}
	}
	f.expect("GET", "/api/options/agents", "", 200, `["CodeActAgent"]`)
	f.expect("GET", "/api/options/security-analyzers", "", 200, `[]`)
	f.expect("GET", "/api/options/config", "", 200,
		`{"APP_MODE":"oss","GITHUB_CLIENT_ID":"gh-id","POSTHOG_CLIENT_KEY":"","FEATURE_FLAGS":{"ENABLE_BILLING":false,"HIDE_LLM_SETTINGS":false,"HIDE_MICROAGENT_MANAGEMENT":true}}`)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUnknownAPIPath(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("GET", "/api/nope", "", 404, `{"detail":"Not Found"}`)
	f.expect("GET", "/api/settings/", "", 404, `{"detail":"Not Found"}`)
}

func TestUserRoutesWithoutProvider(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("GET", "/api/user/repositories", "", 401, `"Git provider token required. (such as GitHub)."`)
	f.expect("GET", "/api/user/info", "", 401, `"Git provider token required. (such as GitHub)."`)
	f.expect("GET", "/api/user/search/repositories?query=x", "", 401, `"GitHub token required."`)
	f.expect("GET", "/api/user/suggested-tasks", "", 401, `"No providers set."`)
	f.expect("GET", "/api/user/repository/branches?repository=a/b", "", 401, `"Git provider token required. (such as GitHub)."`)
	f.expect("GET", "/api/user/repository/a/b/microagents", "", 401, `"Git provider token required. (such as GitHub)."`)

	f.expect("POST", "/api/add-git-providers", `{"provider_tokens":{"github":{"token":"ghp_x","host":"github.com"}}}`, 200, "")
	f.expect("GET", "/api/user/info", "", 500, `"Git provider integration is not available on this server."`)
}

func TestSettingsLifecycle(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("GET", "/api/settings", "", 404, `{"error":"Settings not found"}`)
	f.expect("POST", "/api/settings", `{"language":"en",`, 400, "")
	f.expect("POST", "/api/settings", `{"max_iterations":"many"}`, 422, "")
	f.expect("POST", "/api/settings", `{"language":"en","agent":"CodeActAgent","llm_model":"anthropic/claude-sonnet-4-20250514",
		"llm_api_key":"sk-very-secret","search_api_key":"tvly-secret","user_consents_to_analytics":true,
		"provider_tokens_set":{"github":null},"unknown_key":1}`, 200, `{"message":"Settings stored"}`)

	body := f.expect("GET", "/api/settings", "", 200, "")
	if strings.Contains(body, "sk-very-secret") || strings.Contains(body, "tvly-secret") {
		t.Fatalf("GET /api/settings reveals a key: %s", body)
	}
	// Not embedding storage.Settings: its UnmarshalJSON would be promoted and swallow the extras.
	var got struct {
		LLMAPIKey         *string            `json:"llm_api_key"`
		LLMAPIKeySet      bool               `json:"llm_api_key_set"`
		SearchAPIKeySet   bool               `json:"search_api_key_set"`
		ProviderTokensSet map[string]*string `json:"provider_tokens_set"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.LLMAPIKeySet || !got.SearchAPIKeySet || got.LLMAPIKey != nil || got.ProviderTokensSet == nil {
		t.Fatalf("settings response %s", body)
	}
	for _, key := range []string{`"llm_api_key":null`, `"secrets_store":{"provider_tokens":{}}`, `"provider_tokens_set":{}`} {
		if !strings.Contains(body, key) {
			t.Errorf("response lacks %s: %s", key, body)
		}
	}
	filepath.WalkDir(f.store.Root(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte("sk-very-secret")) {
				t.Errorf("%s holds the LLM key in clear", p)
			}
		}
		return nil
	})

	// Merge: null keeps the five fields, everything else is replaced by its default.
	f.expect("POST", "/api/settings", `{"language":"fr","llm_api_key":null,"search_api_key":""}`, 200, "")
	st, err := f.store.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if deref(st.LLMAPIKey) != "sk-very-secret" || deref(st.LLMModel) != "anthropic/claude-sonnet-4-20250514" ||
		st.UserConsentsToAnalytics == nil || !*st.UserConsentsToAnalytics {
		t.Errorf("merge lost a kept field: %+v", st)
	}
	if deref(st.SearchAPIKey) != "" || st.Agent != nil || deref(st.Language) != "fr" {
		t.Errorf("merge kept a replaced field: %+v", st)
	}
	if body := f.expect("GET", "/api/settings", "", 200, ""); !strings.Contains(body, `"search_api_key_set":false`) {
		t.Errorf("empty search key reported as set: %s", body)
	}

	f.expect("POST", "/api/reset-settings", "", 410, `{"error":"Reset settings functionality has been removed."}`)
}

func TestSettingsMigratesLegacyTokens(t *testing.T) {
	f := newFixture(t, Options{})
	st := storage.NewSettings()
	host := "github.com"
	st.SecretsStore.ProviderTokens = map[string]storage.ProviderToken{"github": {Token: "ghp_legacy", Host: &host}}
	if err := f.store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	body := f.expect("GET", "/api/settings", "", 200, "")
	if !strings.Contains(body, `"provider_tokens_set":{"github":"github.com"}`) || strings.Contains(body, "ghp_legacy") {
		t.Fatalf("migration response: %s", body)
	}
	sec, err := f.store.LoadSecrets()
	if err != nil || sec.ProviderTokens["github"].Token != "ghp_legacy" {
		t.Fatalf("token not migrated: %v %+v", err, sec)
	}
	if st, _ := f.store.LoadSettings(); len(st.SecretsStore.ProviderTokens) != 0 {
		t.Errorf("token left in settings")
	}
}
