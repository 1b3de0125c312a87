package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Git providers whose tokens the secrets store keeps (OpenHands' ProviderType).
const (
	ProviderGitHub    = "github"
	ProviderGitLab    = "gitlab"
	ProviderBitbucket = "bitbucket"
)

// KnownProvider reports whether name is a git provider the secrets store accepts.
func KnownProvider(name string) bool {
	return name == ProviderGitHub || name == ProviderGitLab || name == ProviderBitbucket
}

// ProviderToken is one git provider's credentials.
type ProviderToken struct {
	Token  string  `json:"token"`
	Host   *string `json:"host"`
	UserID *string `json:"user_id"`
}

// UnmarshalJSON accepts a null token (OpenHands writes one for providers known only by user id).
func (p *ProviderToken) UnmarshalJSON(data []byte) error {
	var w struct {
		Token  *string `json:"token"`
		Host   *string `json:"host"`
		UserID *string `json:"user_id"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = ProviderToken{Host: w.Host, UserID: w.UserID}
	if w.Token != nil {
		p.Token = *w.Token
	}
	return nil
}

// CustomSecret is a user-defined secret, exported into the sandbox as an environment variable.
type CustomSecret struct {
	Secret      string `json:"secret"`
	Description string `json:"description"`
}

// UnmarshalJSON accepts a null description, read as "".
func (c *CustomSecret) UnmarshalJSON(data []byte) error {
	var w struct {
		Secret      string  `json:"secret"`
		Description *string `json:"description"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*c = CustomSecret{Secret: w.Secret}
	if w.Description != nil {
		c.Description = *w.Description
	}
	return nil
}

// Secrets is the secrets store: git provider tokens keyed by provider and custom secrets keyed by
// name. Its JSON is OpenHands' secrets.json.
type Secrets struct {
	ProviderTokens map[string]ProviderToken `json:"provider_tokens"`
	CustomSecrets  map[string]CustomSecret  `json:"custom_secrets"`
}

// CustomSecretNames returns the custom secret names sorted, the order listings use (a Go map keeps
// none, unlike OpenHands' insertion-ordered dict).
func (s *Secrets) CustomSecretNames() []string {
	names := make([]string, 0, len(s.CustomSecrets))
	for n := range s.CustomSecrets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// normalize applies OpenHands' read rules: entries without a token and unknown providers are
// dropped; absent maps become empty ones.
func (s *Secrets) normalize() {
	tokens := make(map[string]ProviderToken, len(s.ProviderTokens))
	for name, t := range s.ProviderTokens {
		if KnownProvider(name) && t.Token != "" {
			tokens[name] = t
		}
	}
	s.ProviderTokens = tokens
	if s.CustomSecrets == nil {
		s.CustomSecrets = map[string]CustomSecret{}
	}
}

// LoadSecrets reads the secrets store. With nothing stored it returns empty Secrets and no error.
// When the encrypted file does not exist yet but OpenHands' clear-text secrets.json does, that file
// is read (and left untouched); the next SaveSecrets writes the encrypted file. Provider entries
// without a token and unknown providers are dropped, as OpenHands does.
func (s *Store) LoadSecrets() (*Secrets, error) {
	path := s.secretsPath()
	data, err := readFile(path)
	switch {
	case err == nil:
		if !isEncrypted(strings.TrimSpace(string(data))) {
			return nil, fmt.Errorf("%s: not an encrypted secrets file", path)
		}
		pt, _, err := s.sealer.open(strings.TrimSpace(string(data)), aadSecrets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data = pt
	case errors.Is(err, ErrNotFound):
		path = s.legacySecretsPath()
		data, err = readFile(path)
		if errors.Is(err, ErrNotFound) {
			sec := &Secrets{}
			sec.normalize()
			return sec, nil
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	var sec Secrets
	if err := json.Unmarshal(data, &sec); err != nil {
		// A JSON error never quotes more than a character of the input, so no secret leaks here.
		return nil, fmt.Errorf("%s: invalid secrets JSON: %w", path, err)
	}
	sec.normalize()
	return &sec, nil
}

// SaveSecrets atomically replaces the encrypted secrets file with sec. Provider entries without a
// token are left out, as OpenHands does; an unknown provider name is an error.
func (s *Store) SaveSecrets(sec *Secrets) error {
	if sec == nil {
		return errors.New("save secrets: nil secrets")
	}
	out := Secrets{ProviderTokens: map[string]ProviderToken{}, CustomSecrets: map[string]CustomSecret{}}
	for name, t := range sec.ProviderTokens {
		if !KnownProvider(name) {
			return fmt.Errorf("save secrets: unknown git provider %q", name)
		}
		if t.Token != "" {
			out.ProviderTokens[name] = t
		}
	}
	for name, c := range sec.CustomSecrets {
		out.CustomSecrets[name] = c
	}
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("save secrets: %w", err)
	}
	sealed := s.sealer.seal(data, aadSecrets) + "\n"
	clear(data)
	if err := mkdirAll(filepath.Dir(s.secretsPath())); err != nil {
		return fmt.Errorf("save secrets: %w", err)
	}
	if err := writeFileAtomic(s.secretsPath(), []byte(sealed)); err != nil {
		return fmt.Errorf("save secrets: %w", err)
	}
	return nil
}
