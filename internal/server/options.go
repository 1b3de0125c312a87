package server

import (
	"net/http"
	"slices"
)

// knownModels stands in for LiteLLM's model catalogue: a few well-known ids per provider plus the
// nine fixed openhands/ ids OpenHands 0.50 always adds. The configured model is added at request time.
var knownModels = []string{
	"anthropic/claude-3-5-sonnet-20241022",
	"anthropic/claude-3-7-sonnet-20250219",
	"anthropic/claude-opus-4-20250514",
	"anthropic/claude-sonnet-4-20250514",
	"deepseek/deepseek-chat",
	"gemini/gemini-2.5-flash",
	"gemini/gemini-2.5-pro",
	"mistral/devstral-medium-2507",
	"mistral/devstral-small-2507",
	"openai/gpt-4.1",
	"openai/gpt-4o",
	"openai/o3",
	"openai/o4-mini",
	"openhands/claude-opus-4-20250514",
	"openhands/claude-sonnet-4-20250514",
	"openhands/devstral-medium-2507",
	"openhands/devstral-small-2505",
	"openhands/devstral-small-2507",
	"openhands/gemini-2.5-pro",
	"openhands/kimi-k2-0711-preview",
	"openhands/o3",
	"openhands/o4-mini",
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	models := slices.Clone(knownModels)
	if m := s.cfg.LLM.Model; m != "" {
		models = append(models, m)
	}
	for _, l := range s.cfg.LLMs {
		if l.Model != "" {
			models = append(models, l.Model)
		}
	}
	slices.Sort(models)
	writeJSON(w, http.StatusOK, slices.Compact(models))
}

// handleAgents lists the agents this server can run; OpenHands lists its whole registry, of which
// only CodeActAgent is implemented here.
func (s *Server) handleAgents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []string{"CodeActAgent"})
}

// handleSecurityAnalyzers lists none: the invariant analyzer OpenHands offers is not implemented.
func (s *Server) handleSecurityAnalyzers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []string{})
}

type featureFlags struct {
	EnableBilling            bool `json:"ENABLE_BILLING"`
	HideLLMSettings          bool `json:"HIDE_LLM_SETTINGS"`
	HideMicroagentManagement bool `json:"HIDE_MICROAGENT_MANAGEMENT"`
}

type uiConfig struct {
	AppMode          string       `json:"APP_MODE"`
	GitHubClientID   string       `json:"GITHUB_CLIENT_ID"`
	PostHogClientKey string       `json:"POSTHOG_CLIENT_KEY"`
	FeatureFlags     featureFlags `json:"FEATURE_FLAGS"`
}

// handleConfig answers the UI's bootstrap config. POSTHOG_CLIENT_KEY is empty so the UI sends no
// analytics anywhere.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, uiConfig{
		AppMode:        "oss",
		GitHubClientID: s.opts.GitHubClientID,
		FeatureFlags: featureFlags{
			EnableBilling:            s.opts.EnableBilling,
			HideLLMSettings:          s.opts.HideLLMSettings,
			HideMicroagentManagement: true,
		},
	})
}
