package llm

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/gohands/gohands/internal/config"
)

// API families: the wire protocol a provider speaks.
const (
	apiOpenAI    = "openai"    // chat completions, also every OpenAI-compatible server
	apiAnthropic = "anthropic" // messages
	apiGemini    = "gemini"    // generateContent
)

// route is where a configured model name leads: which wire protocol, which endpoint, which model
// name goes on the wire.
type route struct {
	// provider is the LiteLLM provider name ("openai", "openrouter", "ollama", "anthropic"…).
	provider string
	api      string
	// model is the name sent to the provider: the configured name without its routing prefix.
	model   string
	baseURL string
	apiKey  string
	// azure: deployment-style URLs, api-version query and api-key header.
	azure      bool
	apiVersion string
	// litellmProxy: the request carries OpenHands' metadata (session id, tags) in its body.
	litellmProxy bool
	headers      map[string]string
}

// providerInfo describes one LiteLLM routing prefix.
type providerInfo struct {
	api     string
	baseURL string // default endpoint; "" means base_url is required
	keyEnv  string // environment variable LiteLLM reads the key from when api_key is unset
}

// providers maps LiteLLM's routing prefixes to the protocol and default endpoint we use for them.
// Endpoints are the providers' documented OpenAI-compatible bases.
var providers = map[string]providerInfo{
	"openai":        {apiOpenAI, "https://api.openai.com/v1", "OPENAI_API_KEY"},
	"azure":         {apiOpenAI, "", "AZURE_API_KEY"},
	"anthropic":     {apiAnthropic, "https://api.anthropic.com", "ANTHROPIC_API_KEY"},
	"gemini":        {apiGemini, "https://generativelanguage.googleapis.com", "GEMINI_API_KEY"},
	"ollama":        {apiOpenAI, "http://localhost:11434/v1", ""},
	"ollama_chat":   {apiOpenAI, "http://localhost:11434/v1", ""},
	"openrouter":    {apiOpenAI, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
	"deepseek":      {apiOpenAI, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"},
	"groq":          {apiOpenAI, "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
	"mistral":       {apiOpenAI, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
	"xai":           {apiOpenAI, "https://api.x.ai/v1", "XAI_API_KEY"},
	"together_ai":   {apiOpenAI, "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"},
	"fireworks_ai":  {apiOpenAI, "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"},
	"moonshot":      {apiOpenAI, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"},
	"lm_studio":     {apiOpenAI, "http://localhost:1234/v1", ""},
	"litellm_proxy": {apiOpenAI, "", "LITELLM_PROXY_API_KEY"},
	"hosted_vllm":   {apiOpenAI, "", "HOSTED_VLLM_API_KEY"},
	"openai_like":   {apiOpenAI, "", ""},
	"custom_openai": {apiOpenAI, "", ""},
}

// unsupportedProviders are LiteLLM prefixes that need credentials or signing we do not implement.
var unsupportedProviders = map[string]bool{
	"bedrock": true, "vertex_ai": true, "vertex_ai_beta": true, "sagemaker": true, "huggingface": true,
	"cohere": true, "replicate": true, "watsonx": true, "cloudflare": true, "databricks": true,
}

// openHandsProxy is where OpenHands sends "openhands/<model>" (rewritten to litellm_proxy/<model>).
const openHandsProxy = "https://llm-proxy.app.all-hands.dev/"

// resolveRoute picks the provider for a configured model, LiteLLM-style: a known "provider/"
// prefix routes and is dropped from the name sent; a bare name picks a provider by its family.
func resolveRoute(cfg config.LLM) (route, error) {
	name := strings.TrimSpace(cfg.Model)
	if name == "" {
		return route{}, fmt.Errorf("no LLM model configured")
	}
	baseURL := strings.TrimSpace(cfg.BaseURL)
	if rest, ok := strings.CutPrefix(name, "openhands/"); ok {
		name = "litellm_proxy/" + rest
		baseURL = openHandsProxy
	}

	provider, model := "", name
	if p, rest, ok := strings.Cut(name, "/"); ok {
		if _, known := providers[p]; known || unsupportedProviders[p] {
			provider, model = p, rest
		}
	}
	if cfg.CustomLLMProvider != "" {
		provider = cfg.CustomLLMProvider
	}
	if provider == "" {
		provider = bareProvider(model, baseURL)
		if provider == "" {
			return route{}, fmt.Errorf("model %q: cannot tell which provider serves it; write it as provider/model (openai/…, anthropic/…, ollama/…) or set base_url for an OpenAI-compatible server", cfg.Model)
		}
	}
	if unsupportedProviders[provider] {
		return route{}, fmt.Errorf("model %q: provider %q is not supported; reach it through a LiteLLM proxy (litellm_proxy/<model> with base_url)", cfg.Model, provider)
	}
	info, ok := providers[provider]
	if !ok {
		return route{}, fmt.Errorf("model %q: unknown provider %q", cfg.Model, provider)
	}

	r := route{provider: provider, api: info.api, model: model, litellmProxy: provider == "litellm_proxy"}
	switch {
	case baseURL != "":
		r.baseURL = baseURL
	case (provider == "ollama" || provider == "ollama_chat") && cfg.OllamaBaseURL != "":
		r.baseURL = cfg.OllamaBaseURL
	default:
		r.baseURL = info.baseURL
	}
	if r.baseURL == "" {
		return route{}, fmt.Errorf("model %q: provider %q needs base_url", cfg.Model, provider)
	}
	if _, err := url.Parse(r.baseURL); err != nil {
		return route{}, fmt.Errorf("model %q: base_url: %w", cfg.Model, err)
	}
	r.baseURL = normalizeBaseURL(r)

	r.apiKey = cfg.APIKey.Reveal()
	if r.apiKey == "" && info.keyEnv != "" {
		r.apiKey = os.Getenv(info.keyEnv)
		if r.apiKey == "" && provider == "gemini" {
			r.apiKey = os.Getenv("GOOGLE_API_KEY")
		}
	}
	if provider == "azure" {
		r.azure = true
		r.apiVersion = cfg.APIVersion
		if r.apiVersion == "" {
			r.apiVersion = "2024-12-01-preview" // OpenHands' default for Azure models
		}
	}
	if provider == "openrouter" {
		r.headers = map[string]string{}
		if cfg.OpenRouterSiteURL != "" {
			r.headers["HTTP-Referer"] = cfg.OpenRouterSiteURL
		}
		if cfg.OpenRouterAppName != "" {
			r.headers["X-Title"] = cfg.OpenRouterAppName
		}
	}
	return r, nil
}

// bareProvider picks a provider for a model name without a routing prefix, as LiteLLM does for the
// families it knows. An unknown name with a base URL is taken for an OpenAI-compatible server.
func bareProvider(model, baseURL string) string {
	m := strings.ToLower(model)
	switch {
	case strings.HasPrefix(m, "claude-"):
		return "anthropic"
	case strings.HasPrefix(m, "gemini-"):
		return "gemini"
	case strings.HasPrefix(m, "gpt-"), strings.HasPrefix(m, "chatgpt-"), strings.HasPrefix(m, "o1"),
		strings.HasPrefix(m, "o3"), strings.HasPrefix(m, "o4"), strings.HasPrefix(m, "codex-"):
		return "openai"
	case strings.HasPrefix(m, "deepseek-") && baseURL == "":
		return "deepseek"
	case baseURL != "":
		return "openai"
	}
	return ""
}

// normalizeBaseURL accepts the base URLs people write for LiteLLM: Anthropic's and Gemini's with
// their version path (the SDKs add it), Ollama's without /v1 (its OpenAI API lives there).
func normalizeBaseURL(r route) string {
	u := strings.TrimRight(r.baseURL, "/")
	switch {
	case r.api == apiAnthropic:
		u = strings.TrimSuffix(u, "/v1/messages")
		u = strings.TrimSuffix(u, "/v1")
	case r.api == apiGemini:
		u = strings.TrimSuffix(u, "/v1beta")
		u = strings.TrimSuffix(u, "/v1")
	case r.provider == "ollama" || r.provider == "ollama_chat":
		if !strings.HasSuffix(u, "/v1") {
			u += "/v1"
		}
	}
	return u + "/"
}
