package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Settings is the OpenHands 0.50 per-user Settings model, field for field and in its JSON order.
// Pointer fields are nullable (null when nil). In memory every secret is clear text; SaveSettings
// encrypts llm_api_key, search_api_key, sandbox_api_key, legacy provider tokens and MCP credentials
// on the way to disk and LoadSettings decrypts them. Decoding JSON into a Settings applies the
// OpenHands defaults to absent fields, so the type also serves request bodies.
type Settings struct {
	Language                            *string      `json:"language"`
	Agent                               *string      `json:"agent"`
	MaxIterations                       *int         `json:"max_iterations"`
	SecurityAnalyzer                    *string      `json:"security_analyzer"`
	ConfirmationMode                    *bool        `json:"confirmation_mode"`
	LLMModel                            *string      `json:"llm_model"`
	LLMAPIKey                           *string      `json:"llm_api_key"`
	LLMBaseURL                          *string      `json:"llm_base_url"`
	RemoteRuntimeResourceFactor         *int         `json:"remote_runtime_resource_factor"`
	SecretsStore                        SecretsStore `json:"secrets_store"`
	EnableDefaultCondenser              bool         `json:"enable_default_condenser"`
	EnableSoundNotifications            bool         `json:"enable_sound_notifications"`
	EnableProactiveConversationStarters bool         `json:"enable_proactive_conversation_starters"`
	UserConsentsToAnalytics             *bool        `json:"user_consents_to_analytics"`
	SandboxBaseContainerImage           *string      `json:"sandbox_base_container_image"`
	SandboxRuntimeContainerImage        *string      `json:"sandbox_runtime_container_image"`
	MCPConfig                           *MCPConfig   `json:"mcp_config"`
	SearchAPIKey                        *string      `json:"search_api_key"`
	SandboxAPIKey                       *string      `json:"sandbox_api_key"`
	MaxBudgetPerTask                    *float64     `json:"max_budget_per_task"`
	Email                               *string      `json:"email"`
	EmailVerified                       *bool        `json:"email_verified"`
}

// SecretsStore is the legacy secrets_store field of Settings. OpenHands writes it as
// {"provider_tokens":{}}; older files may still hold tokens here, which the settings API migrates
// into the secrets store.
type SecretsStore struct {
	ProviderTokens map[string]ProviderToken `json:"provider_tokens"`
}

// MarshalJSON writes an absent map as {} like OpenHands does.
func (s SecretsStore) MarshalJSON() ([]byte, error) {
	type plain SecretsStore
	p := plain(s)
	if p.ProviderTokens == nil {
		p.ProviderTokens = map[string]ProviderToken{}
	}
	return json.Marshal(p)
}

// MCPConfig is the mcp_config field of Settings (the [mcp] section's shape).
type MCPConfig struct {
	SSEServers   []MCPRemoteServer `json:"sse_servers"`
	StdioServers []MCPStdioServer  `json:"stdio_servers"`
	SHTTPServers []MCPRemoteServer `json:"shttp_servers"`
}

// MarshalJSON writes absent lists as [] like OpenHands does.
func (c MCPConfig) MarshalJSON() ([]byte, error) {
	type plain MCPConfig
	p := plain(c)
	if p.SSEServers == nil {
		p.SSEServers = []MCPRemoteServer{}
	}
	if p.StdioServers == nil {
		p.StdioServers = []MCPStdioServer{}
	}
	if p.SHTTPServers == nil {
		p.SHTTPServers = []MCPRemoteServer{}
	}
	return json.Marshal(p)
}

// MCPRemoteServer is an SSE or streamable-HTTP MCP server. In JSON it is {"url","api_key"} or a bare
// URL string.
type MCPRemoteServer struct {
	URL    string  `json:"url"`
	APIKey *string `json:"api_key"`
}

// UnmarshalJSON accepts the object form and the bare URL string form.
func (m *MCPRemoteServer) UnmarshalJSON(data []byte) error {
	var url string
	if err := json.Unmarshal(data, &url); err == nil {
		*m = MCPRemoteServer{URL: url}
		return nil
	}
	type plain MCPRemoteServer
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*m = MCPRemoteServer(p)
	return nil
}

// MCPStdioServer is an MCP server started as a process inside the sandbox.
type MCPStdioServer struct {
	Name    string            `json:"name"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

// MarshalJSON writes absent args and env as [] and {} like OpenHands does.
func (m MCPStdioServer) MarshalJSON() ([]byte, error) {
	type plain MCPStdioServer
	p := plain(m)
	if p.Args == nil {
		p.Args = []string{}
	}
	if p.Env == nil {
		p.Env = map[string]string{}
	}
	return json.Marshal(p)
}

// NewSettings returns Settings holding the OpenHands defaults: every nullable field null, the
// default condenser and proactive conversation starters on, sound notifications off.
func NewSettings() *Settings {
	return &Settings{EnableDefaultCondenser: true, EnableProactiveConversationStarters: true}
}

// UnmarshalJSON applies the OpenHands defaults to fields absent from data. Unknown keys are ignored.
func (s *Settings) UnmarshalJSON(data []byte) error {
	type plain Settings
	p := plain(*NewSettings())
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = Settings(p)
	return nil
}

// openHandsMask is what OpenHands 0.50 writes for sandbox_api_key (it has no clear-text serialiser).
// It is never a real key, so reading it yields null.
const openHandsMask = "**********"

// LoadSettings reads settings.json. It returns an error wrapping ErrNotFound when there is none, and
// an error naming the file (and, for a value that cannot be decrypted, the field) when it cannot be
// read; the file is left as it is. Clear-text secrets written by OpenHands are accepted.
func (s *Store) LoadSettings() (*Settings, error) {
	path := s.settingsPath()
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var st Settings
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: invalid settings JSON: %w", path, err)
	}
	if st.SandboxAPIKey != nil && *st.SandboxAPIKey == openHandsMask {
		st.SandboxAPIKey = nil
	}
	if err := st.eachSecret(func(field string, v *string) error {
		pt, _, err := s.sealer.open(*v, aadSettings)
		if err != nil {
			return fmt.Errorf("%s: field %s: %w", path, field, err)
		}
		*v = string(pt)
		return nil
	}); err != nil {
		return nil, err
	}
	return &st, nil
}

// SaveSettings atomically replaces settings.json with st, its secrets encrypted. st is not modified.
func (s *Store) SaveSettings(st *Settings) error {
	if st == nil {
		return errors.New("save settings: nil settings")
	}
	c := st.clone()
	_ = c.eachSecret(func(_ string, v *string) error {
		*v = s.sealer.seal([]byte(*v), aadSettings)
		return nil
	})
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := writeFileAtomic(s.settingsPath(), data); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// DeleteSettings removes settings.json. Removing settings that do not exist is not an error.
func (s *Store) DeleteSettings() error {
	err := os.Remove(s.settingsPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete settings: %w", err)
	}
	if err := syncDir(s.root); err != nil {
		return fmt.Errorf("delete settings: %w", err)
	}
	return nil
}

// eachSecret calls fn for every secret string held by st, with a field path for error messages
// (never the value). It stops at the first error.
func (st *Settings) eachSecret(fn func(field string, v *string) error) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"llm_api_key", st.LLMAPIKey}, {"search_api_key", st.SearchAPIKey}, {"sandbox_api_key", st.SandboxAPIKey}} {
		if f.v != nil {
			if err := fn(f.name, f.v); err != nil {
				return err
			}
		}
	}
	for name, tok := range st.SecretsStore.ProviderTokens {
		if err := fn("secrets_store.provider_tokens."+name+".token", &tok.Token); err != nil {
			return err
		}
		st.SecretsStore.ProviderTokens[name] = tok
	}
	if m := st.MCPConfig; m != nil {
		for kind, list := range map[string][]MCPRemoteServer{"sse_servers": m.SSEServers, "shttp_servers": m.SHTTPServers} {
			for i := range list {
				if list[i].APIKey != nil {
					if err := fn(fmt.Sprintf("mcp_config.%s[%d].api_key", kind, i), list[i].APIKey); err != nil {
						return err
					}
				}
			}
		}
		for i, srv := range m.StdioServers {
			for k, v := range srv.Env {
				if err := fn(fmt.Sprintf("mcp_config.stdio_servers[%d].env.%s", i, k), &v); err != nil {
					return err
				}
				srv.Env[k] = v
			}
		}
	}
	return nil
}

// clone returns a deep copy of st, so encrypting the copy leaves the caller's value alone.
func (st *Settings) clone() *Settings {
	c := *st
	c.LLMAPIKey = clonePtr(st.LLMAPIKey)
	c.SearchAPIKey = clonePtr(st.SearchAPIKey)
	c.SandboxAPIKey = clonePtr(st.SandboxAPIKey)
	if st.SecretsStore.ProviderTokens != nil {
		c.SecretsStore.ProviderTokens = make(map[string]ProviderToken, len(st.SecretsStore.ProviderTokens))
		for k, v := range st.SecretsStore.ProviderTokens {
			c.SecretsStore.ProviderTokens[k] = v
		}
	}
	if m := st.MCPConfig; m != nil {
		mc := MCPConfig{
			SSEServers:   cloneRemote(m.SSEServers),
			SHTTPServers: cloneRemote(m.SHTTPServers),
		}
		if m.StdioServers != nil {
			mc.StdioServers = make([]MCPStdioServer, len(m.StdioServers))
			for i, srv := range m.StdioServers {
				srv.Args = append([]string(nil), srv.Args...)
				if srv.Env != nil {
					env := make(map[string]string, len(srv.Env))
					for k, v := range srv.Env {
						env[k] = v
					}
					srv.Env = env
				}
				mc.StdioServers[i] = srv
			}
		}
		c.MCPConfig = &mc
	}
	return &c
}

func cloneRemote(in []MCPRemoteServer) []MCPRemoteServer {
	if in == nil {
		return nil
	}
	out := make([]MCPRemoteServer, len(in))
	for i, srv := range in {
		srv.APIKey = clonePtr(srv.APIKey)
		out[i] = srv
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
