package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsCRUD(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("GET", "/api/secrets", "", 200, `{"custom_secrets":[]}`)
	f.expect("POST", "/api/secrets", `{"name":`, 400, "")
	f.expect("POST", "/api/secrets", `{"name":"ONLY_NAME"}`, 422, "")
	f.expect("POST", "/api/secrets", `{"name":"B_KEY","value":"value-b-secret","description":"bee"}`, 201, `{"message":"Secret created successfully"}`)
	f.expect("POST", "/api/secrets", `{"name":"A_KEY","value":"value-a-secret"}`, 201, "")
	f.expect("POST", "/api/secrets", `{"name":"A_KEY","value":"other"}`, 400, `{"message":"Secret A_KEY already exists"}`)

	body := f.expect("GET", "/api/secrets", "", 200,
		`{"custom_secrets":[{"name":"A_KEY","description":""},{"name":"B_KEY","description":"bee"}]}`)
	if strings.Contains(body, "value-") {
		t.Fatalf("values returned: %s", body)
	}

	f.expect("PUT", "/api/secrets/NOPE", `{"name":"X"}`, 404, `{"error":"Secret with ID NOPE not found"}`)
	f.expect("PUT", "/api/secrets/A_KEY", `{"name":"B_KEY"}`, 400, `{"message":"Secret B_KEY already exists"}`)
	f.expect("PUT", "/api/secrets/A_KEY", `not json`, 400, "")
	f.expect("PUT", "/api/secrets/A_KEY", `{"name":"C_KEY","description":"renamed"}`, 200, `{"message":"Secret updated successfully"}`)
	sec, err := f.store.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := sec.CustomSecrets["C_KEY"]; !ok || c.Secret != "value-a-secret" || c.Description != "renamed" {
		t.Fatalf("rename lost the value: %+v", sec.CustomSecrets)
	}

	f.expect("DELETE", "/api/secrets/NOPE", "", 404, `{"error":"Secret with ID NOPE not found"}`)
	f.expect("DELETE", "/api/secrets/B_KEY", "", 200, `{"message":"Secret deleted successfully"}`)
	f.expect("GET", "/api/secrets", "", 200, `{"custom_secrets":[{"name":"C_KEY","description":"renamed"}]}`)

	filepath.WalkDir(f.store.Root(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte("value-a-secret")) {
				t.Errorf("%s holds a secret value in clear", p)
			}
		}
		return nil
	})
}

func TestProviderTokens(t *testing.T) {
	f := newFixture(t, Options{})
	f.expect("POST", "/api/add-git-providers", `{"provider_tokens":{"gitea":{"token":"x"}}}`, 422, "")
	f.expect("POST", "/api/add-git-providers", `{"provider_tokens":`, 400, "")
	f.expect("POST", "/api/secrets", `{"name":"KEEP","value":"v"}`, 201, "")
	f.expect("POST", "/api/add-git-providers",
		`{"provider_tokens":{"github":{"token":"ghp_abc","host":"github.com"},"gitlab":{"token":"","host":null}},"mcp_config":null}`,
		200, `{"message":"Git providers stored"}`)
	body := f.expect("GET", "/api/settings", "", 404, "") // tokens alone make no settings
	_ = body
	f.expect("POST", "/api/settings", `{}`, 200, "")
	body = f.expect("GET", "/api/settings", "", 200, "")
	if !strings.Contains(body, `"provider_tokens_set":{"github":"github.com"}`) || strings.Contains(body, "ghp_abc") {
		t.Fatalf("settings: %s", body)
	}

	// An empty token keeps the stored one and takes the new host; omitted providers are dropped.
	f.expect("POST", "/api/add-git-providers", `{"provider_tokens":{"github":{"token":"","host":"ghe.example"}}}`, 200, "")
	sec, err := f.store.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if gh := sec.ProviderTokens["github"]; gh.Token != "ghp_abc" || deref(gh.Host) != "ghe.example" {
		t.Fatalf("github token after keep: %+v", gh)
	}

	f.expect("POST", "/api/unset-provider-tokens", "", 200, `{"message":"Unset Git provider tokens"}`)
	sec, err = f.store.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.ProviderTokens) != 0 || sec.CustomSecrets["KEEP"].Secret != "v" {
		t.Fatalf("after unset: %+v", sec)
	}
}
