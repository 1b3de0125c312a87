package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// openHandsSecrets is a secrets.json as OpenHands 0.50 writes it (clear text), plus the things its
// reader discards: a provider without token and an unknown provider.
const openHandsSecrets = `{"provider_tokens":{"github":{"token":"ghp_CLEARTEXTgithubTOKEN","host":"github.com","user_id":null},` +
	`"gitlab":{"token":"","host":null,"user_id":null},"bitbucket":{"token":null,"host":null,"user_id":"42"},` +
	`"codeberg":{"token":"x","host":null,"user_id":null}},` +
	`"custom_secrets":{"MY_KEY":{"secret":"CUSTOM-secret-value","description":""},"OTHER":{"secret":"o","description":null}}}`

func TestSecretsEmpty(t *testing.T) {
	s := openStore(t)
	sec, err := s.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if sec.ProviderTokens == nil || sec.CustomSecrets == nil || len(sec.ProviderTokens)+len(sec.CustomSecrets) != 0 {
		t.Errorf("empty store: got %+v, want empty non-nil maps", sec)
	}
}

func TestSecretsRoundTrip(t *testing.T) {
	s := openStore(t)
	in := &Secrets{
		ProviderTokens: map[string]ProviderToken{
			"github": {Token: "ghp_ROUNDTRIP", Host: ptr("github.example.com"), UserID: ptr("7")},
			"gitlab": {Token: "", Host: ptr("gitlab.com")}, // no token: not written
		},
		CustomSecrets: map[string]CustomSecret{
			"B_SECRET": {Secret: "custom-ROUNDTRIP", Description: "for b"},
			"A_SECRET": {Secret: "", Description: ""},
		},
	}
	if err := s.SaveSecrets(in); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, s.secretsPath()); m != 0o600 {
		t.Errorf("secrets file mode %v, want 0600", m)
	}
	if m := mode(t, filepath.Dir(s.secretsPath())); m != 0o700 {
		t.Errorf("secrets dir mode %v, want 0700", m)
	}
	assertNoSecretOnDisk(t, s, "ghp_ROUNDTRIP", "custom-ROUNDTRIP", "B_SECRET", "github.example.com")
	out, err := s.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	want := &Secrets{
		ProviderTokens: map[string]ProviderToken{"github": in.ProviderTokens["github"]},
		CustomSecrets:  in.CustomSecrets,
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("round trip: got %+v, want %+v", out, want)
	}
	if got := out.CustomSecretNames(); !reflect.DeepEqual(got, []string{"A_SECRET", "B_SECRET"}) {
		t.Errorf("CustomSecretNames = %v", got)
	}
	if err := s.SaveSecrets(&Secrets{ProviderTokens: map[string]ProviderToken{"codeberg": {Token: "t"}}}); err == nil || strings.Contains(err.Error(), `"t"`) {
		t.Errorf("unknown provider: err = %v", err)
	}
	if err := s.SaveSecrets(nil); err == nil {
		t.Error("SaveSecrets(nil) succeeded")
	}
}

func TestSecretsReadOpenHandsFile(t *testing.T) {
	s := openStore(t)
	legacy := s.legacySecretsPath()
	if err := os.WriteFile(legacy, []byte(openHandsSecrets), 0o644); err != nil {
		t.Fatal(err)
	}
	sec, err := s.LoadSecrets()
	if err != nil {
		t.Fatal(err)
	}
	want := &Secrets{
		ProviderTokens: map[string]ProviderToken{"github": {Token: "ghp_CLEARTEXTgithubTOKEN", Host: ptr("github.com")}},
		CustomSecrets: map[string]CustomSecret{
			"MY_KEY": {Secret: "CUSTOM-secret-value", Description: ""},
			"OTHER":  {Secret: "o", Description: ""},
		},
	}
	if !reflect.DeepEqual(sec, want) {
		t.Fatalf("got %+v, want %+v", sec, want)
	}
	if err := s.SaveSecrets(sec); err != nil {
		t.Fatal(err)
	}
	assertNoSecretOnDisk(t, s, "ghp_CLEARTEXTgithubTOKEN", "CUSTOM-secret-value")
	if data, _ := os.ReadFile(legacy); string(data) != openHandsSecrets {
		t.Error("OpenHands' secrets.json was modified")
	}
	// From now on the encrypted file wins, even over a changed legacy file.
	if err := os.WriteFile(legacy, []byte(`{"custom_secrets":{"NEW":{"secret":"n"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := s.LoadSecrets()
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("after save: %+v, %v", again, err)
	}
}

func TestLoadSecretsErrors(t *testing.T) {
	const secret = "ghp_MUSTNOTLEAK"
	a := openStore(t)
	if err := a.SaveSecrets(&Secrets{ProviderTokens: map[string]ProviderToken{"github": {Token: secret}}}); err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile(a.secretsPath())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path func(s *Store) string
		data []byte
	}{
		{"wrong key", (*Store).secretsPath, sealed},
		{"clear text in encrypted file", (*Store).secretsPath, []byte(`{"provider_tokens":{}}`)},
		{"bad base64", (*Store).secretsPath, []byte(encPrefix + "!!!")},
		{"invalid legacy JSON", (*Store).legacySecretsPath, []byte(`{"provider_tokens":`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openStore(t)
			path := tt.path(b)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := b.LoadSecrets()
			if err == nil {
				t.Fatal("LoadSecrets succeeded")
			}
			if errors.Is(err, ErrNotFound) {
				t.Error("reported as not found")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the secret", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tt.data) {
				t.Error("file changed by a failed load")
			}
		})
	}
}
