package llm

import (
	"slices"
	"strings"
)

// modelFacts is what we know of a well-known model: prices in USD per token and limits in tokens.
//
// Figures are the providers' published list prices (anthropic.com/pricing, openai.com/api/pricing,
// ai.google.dev/gemini-api/docs/pricing, api-docs.deepseek.com/quick_start/pricing) as mirrored in
// LiteLLM's model_prices_and_context_window.json in mid-2025, which is what OpenHands 0.50 bills
// with. Cache-read is the cached-input price; cache-write is Anthropic's 5-minute cache write.
type modelFacts struct {
	input, output, cacheRead, cacheWrite float64
	// inputAbove200k and outputAbove200k are Gemini 2.5 Pro's prices for prompts over 200k tokens.
	inputAbove200k, outputAbove200k float64
	contextWindow                   int // max input tokens
	maxOutput                       int
}

const perMillion = 1e-6

// knownModels is keyed by model-name prefix; the longest matching prefix wins, so dated names
// ("claude-sonnet-4-20250514") find their family.
var knownModels = map[string]modelFacts{
	"claude-opus-4":     {input: 15 * perMillion, output: 75 * perMillion, cacheRead: 1.5 * perMillion, cacheWrite: 18.75 * perMillion, contextWindow: 200000, maxOutput: 32000},
	"claude-sonnet-4":   {input: 3 * perMillion, output: 15 * perMillion, cacheRead: 0.3 * perMillion, cacheWrite: 3.75 * perMillion, contextWindow: 200000, maxOutput: 64000},
	"claude-3-7-sonnet": {input: 3 * perMillion, output: 15 * perMillion, cacheRead: 0.3 * perMillion, cacheWrite: 3.75 * perMillion, contextWindow: 200000, maxOutput: 64000},
	"claude-3-5-sonnet": {input: 3 * perMillion, output: 15 * perMillion, cacheRead: 0.3 * perMillion, cacheWrite: 3.75 * perMillion, contextWindow: 200000, maxOutput: 8192},
	"claude-3-5-haiku":  {input: 0.8 * perMillion, output: 4 * perMillion, cacheRead: 0.08 * perMillion, cacheWrite: 1 * perMillion, contextWindow: 200000, maxOutput: 8192},
	"claude-3-opus":     {input: 15 * perMillion, output: 75 * perMillion, cacheRead: 1.5 * perMillion, cacheWrite: 18.75 * perMillion, contextWindow: 200000, maxOutput: 4096},
	"claude-3-haiku":    {input: 0.25 * perMillion, output: 1.25 * perMillion, cacheRead: 0.03 * perMillion, cacheWrite: 0.3 * perMillion, contextWindow: 200000, maxOutput: 4096},

	"gpt-4o":       {input: 2.5 * perMillion, output: 10 * perMillion, cacheRead: 1.25 * perMillion, contextWindow: 128000, maxOutput: 16384},
	"gpt-4o-mini":  {input: 0.15 * perMillion, output: 0.6 * perMillion, cacheRead: 0.075 * perMillion, contextWindow: 128000, maxOutput: 16384},
	"gpt-4.1":      {input: 2 * perMillion, output: 8 * perMillion, cacheRead: 0.5 * perMillion, contextWindow: 1047576, maxOutput: 32768},
	"gpt-4.1-mini": {input: 0.4 * perMillion, output: 1.6 * perMillion, cacheRead: 0.1 * perMillion, contextWindow: 1047576, maxOutput: 32768},
	"gpt-4.1-nano": {input: 0.1 * perMillion, output: 0.4 * perMillion, cacheRead: 0.025 * perMillion, contextWindow: 1047576, maxOutput: 32768},
	"o1":           {input: 15 * perMillion, output: 60 * perMillion, cacheRead: 7.5 * perMillion, contextWindow: 200000, maxOutput: 100000},
	"o3":           {input: 2 * perMillion, output: 8 * perMillion, cacheRead: 0.5 * perMillion, contextWindow: 200000, maxOutput: 100000},
	"o3-mini":      {input: 1.1 * perMillion, output: 4.4 * perMillion, cacheRead: 0.55 * perMillion, contextWindow: 200000, maxOutput: 100000},
	"o4-mini":      {input: 1.1 * perMillion, output: 4.4 * perMillion, cacheRead: 0.275 * perMillion, contextWindow: 200000, maxOutput: 100000},

	"gemini-2.5-pro":   {input: 1.25 * perMillion, output: 10 * perMillion, cacheRead: 0.31 * perMillion, inputAbove200k: 2.5 * perMillion, outputAbove200k: 15 * perMillion, contextWindow: 1048576, maxOutput: 65535},
	"gemini-2.5-flash": {input: 0.3 * perMillion, output: 2.5 * perMillion, cacheRead: 0.075 * perMillion, contextWindow: 1048576, maxOutput: 65535},
	"gemini-2.0-flash": {input: 0.1 * perMillion, output: 0.4 * perMillion, cacheRead: 0.025 * perMillion, contextWindow: 1048576, maxOutput: 8192},

	"deepseek-chat":     {input: 0.27 * perMillion, output: 1.1 * perMillion, cacheRead: 0.07 * perMillion, contextWindow: 65536, maxOutput: 8192},
	"deepseek-reasoner": {input: 0.55 * perMillion, output: 2.19 * perMillion, cacheRead: 0.14 * perMillion, contextWindow: 65536, maxOutput: 8192},
}

// lookupModel finds the facts for a model name in any of its spellings ("anthropic/claude-3.5-sonnet",
// "openrouter/openai/gpt-4o-2024-08-06"…).
func lookupModel(name string) (modelFacts, bool) {
	m := strings.ToLower(name)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if strings.HasPrefix(m, "claude-") {
		m = strings.NewReplacer("3.5", "3-5", "3.7", "3-7").Replace(m)
	}
	best := ""
	for k := range knownModels {
		if len(k) > len(best) && (m == k || strings.HasPrefix(m, k+"-") || strings.HasPrefix(m, k+":") || strings.HasPrefix(m, k+"@")) {
			best = k
		}
	}
	if best == "" {
		return modelFacts{}, false
	}
	return knownModels[best], true
}

// cost prices one call. Prompt tokens include cached ones (LiteLLM's convention for every
// provider), so cache reads and writes are taken out of the input count and priced on their own.
func (f modelFacts) cost(u Usage) float64 {
	in, out := f.input, f.output
	if f.inputAbove200k > 0 && u.PromptTokens > 200000 {
		in, out = f.inputAbove200k, f.outputAbove200k
	}
	read, write := f.cacheRead, f.cacheWrite
	if read == 0 {
		read = in
	}
	if write == 0 {
		write = in
	}
	plain := max(u.PromptTokens-u.CacheReadTokens-u.CacheWriteTokens, 0)
	return float64(plain)*in + float64(u.CacheReadTokens)*read + float64(u.CacheWriteTokens)*write +
		float64(u.CompletionTokens)*out
}

// Capability lists, as OpenHands 0.50 keeps them (openhands/llm/llm.py): a model is matched by its
// full name, by its last path segment, or (function calling only) by containing an entry.
var (
	functionCallingModels = []string{
		"claude-3-7-sonnet-20250219", "claude-sonnet-3-7-latest", "claude-3-5-sonnet",
		"claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022", "claude-3.5-haiku",
		"claude-3-5-haiku-20241022", "claude-sonnet-4-20250514", "claude-sonnet-4",
		"claude-opus-4-20250514", "gpt-4o-mini", "gpt-4o", "o1-2024-12-17", "o3-mini-2025-01-31",
		"o3-mini", "o3", "o3-2025-04-16", "o4-mini", "o4-mini-2025-04-16", "gemini-2.5-pro",
		"gpt-4.1", "kimi-k2-0711-preview", "kimi-k2-instruct",
	}
	cachePromptModels = []string{
		"claude-3-7-sonnet-20250219", "claude-sonnet-3-7-latest", "claude-3.7-sonnet",
		"claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20240620", "claude-3-5-haiku-20241022",
		"claude-3-haiku-20240307", "claude-3-opus-20240229", "claude-sonnet-4-20250514",
		"claude-sonnet-4", "claude-opus-4-20250514",
	}
	reasoningEffortModels = []string{
		"o1-2024-12-17", "o1", "o3", "o3-2025-04-16", "o3-mini-2025-01-31", "o3-mini", "o4-mini",
		"o4-mini-2025-04-16", "gemini-2.5-flash", "gemini-2.5-pro",
	}
	modelsWithoutStopWords = []string{"o1-mini", "o1-preview", "o1", "o1-2024-12-17", "xai/grok-4-0709"}
)

func lastSegment(model string) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		return model[i+1:]
	}
	return model
}

func inList(list []string, model string) bool {
	return slices.Contains(list, model) || slices.Contains(list, lastSegment(model)) ||
		slices.Contains(list, strings.ToLower(model))
}

func supportsFunctionCalling(model string) bool {
	if inList(functionCallingModels, model) {
		return true
	}
	for _, m := range functionCallingModels {
		if strings.Contains(model, m) {
			return true
		}
	}
	return false
}
