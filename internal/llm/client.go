package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/config"
)

// Options are a client's collaborators; every field is optional.
type Options struct {
	// Logger receives retries and call summaries (never keys or prompts). Default: discard.
	Logger *slog.Logger
	// HTTPClient carries the provider requests (tests point it nowhere special: base_url does).
	HTTPClient *http.Client
	// Sleep waits between attempts; tests replace it to record the backoff without waiting.
	// Default: a timer that returns early with ctx.Err() when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for latencies, cost timestamps and Retry-After dates. Default: time.Now.
	Now func() time.Time
	// Metrics is where calls are recorded; share one between clients to get conversation totals.
	// Default: new metrics named MetricsModel.
	Metrics *Metrics
	// MetricsModel is the model name inside metrics entries when Metrics is nil. Default
	// "default", as in OpenHands' controller conversations.
	MetricsModel string
}

// provider is one wire protocol behind the client.
type provider interface {
	// complete makes one attempt (no retries).
	complete(ctx context.Context, c *call) (*completion, error)
	// failure describes an error complete returned when it is an HTTP error answer.
	failure(err error) (failure, bool)
}

// call is one provider request, already in the shape the model gets (tools turned into prompt
// text for models without native tool calling).
type call struct {
	model           string
	messages        []Message
	tools           []Tool
	stop            []string
	temperature     *float64
	topP            *float64
	topK            *float64
	seed            *int
	maxTokens       int // 0: not sent
	reasoningEffort string
	metadata        map[string]any
}

// completion is one provider answer, normalized.
type completion struct {
	id                string
	created           int64
	model             string
	systemFingerprint string
	// empty: the provider answered without any choice or candidate.
	empty        bool
	content      string
	toolCalls    []ToolCall
	toolIndexes  []int // the index LiteLLM gives each tool call in model_response
	finishReason string
	usage        Usage
	// anthropicUsage adds cache_creation_input_tokens and cache_read_input_tokens to the usage
	// in model_response, as LiteLLM does for Anthropic.
	anthropicUsage bool
}

type client struct {
	cfg     config.LLM
	route   route
	p       provider
	native  bool
	caching bool
	// reasoning: send reasoning_effort and drop temperature/top_p (o-series, Gemini 2.5).
	reasoning bool
	stopWords bool
	facts     modelFacts
	known     bool
	policy    retryPolicy
	log       *slog.Logger
	sleep     func(context.Context, time.Duration) error
	now       func() time.Time
	metrics   *Metrics
}

// New builds a client for an LLM config group. It contacts nobody; a bad key shows on the first
// call.
func New(cfg config.LLM, opts Options) (Client, error) {
	r, err := resolveRoute(cfg)
	if err != nil {
		return nil, err
	}
	c := &client{cfg: cfg, route: r, log: opts.Logger, sleep: opts.Sleep, now: opts.Now,
		metrics: opts.Metrics, policy: newRetryPolicy(cfg)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.metrics == nil {
		c.metrics = NewMetrics(opts.MetricsModel)
	}
	name := cfg.Model
	if cfg.NativeToolCalling != nil {
		c.native = *cfg.NativeToolCalling
	} else {
		c.native = supportsFunctionCalling(name)
	}
	c.caching = cfg.CachingPrompt && inList(cachePromptModels, name)
	c.reasoning = inList(reasoningEffortModels, name) && cfg.ReasoningEffort != "" && cfg.ReasoningEffort != "none"
	c.stopWords = !inList(modelsWithoutStopWords, name)
	c.facts, c.known = lookupModel(r.model)

	hc := httpClientFor(opts.HTTPClient)
	switch r.api {
	case apiOpenAI:
		c.p = newOpenAIProvider(r, hc)
	case apiAnthropic:
		c.p = newAnthropicProvider(r, hc, c.policy.attemptTimeout)
	case apiGemini:
		c.p, err = newGeminiProvider(r, hc)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", cfg.Model, err)
		}
	}
	return c, nil
}

func (c *client) Model() string         { return c.cfg.Model }
func (c *client) FunctionCalling() bool { return c.native }
func (c *client) Metrics() *Metrics     { return c.metrics }

// Complete runs one chat completion with retries, records its metrics and returns it with tool
// calls in native form whatever the model's abilities.
func (c *client) Complete(ctx context.Context, req Request) (*Response, error) {
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("complete with model %s: no messages", c.cfg.Model)
	}
	cl := c.buildCall(req)
	textTools := !c.native && len(req.Tools) > 0
	if textTools {
		cl.messages = toTextProtocol(cl.messages, req.Tools, inContextExample(c.cfg.Model))
		cl.tools = nil
		if c.stopWords {
			cl.stop = append(cl.stop, textProtocolStop)
		}
	}

	for attempt := 1; ; attempt++ {
		comp, latency, err := c.attempt(ctx, cl)
		if err == nil && comp.empty {
			err = &ProviderError{Model: c.cfg.Model, Provider: c.route.provider, Kind: ErrNoResponse,
				Message: "the response has no choices", retryable: true}
		}
		if err == nil {
			return c.finish(comp, latency, req.Tools, textTools, cl.messages)
		}
		var pe *ProviderError
		if !errors.As(err, &pe) {
			return nil, err
		}
		pe.Attempts = attempt
		if !pe.retryable || attempt >= c.policy.attempts {
			c.log.Warn("llm call failed", "model", c.cfg.Model, "attempt", attempt, "error", pe.Error())
			return nil, pe
		}
		wait := c.policy.wait(attempt, pe.RetryAfter)
		c.log.Warn("llm call failed, retrying", "model", c.cfg.Model, "attempt", attempt,
			"max_attempts", c.policy.attempts, "wait", wait, "error", pe.Error())
		if errors.Is(pe.Kind, ErrNoResponse) && (cl.temperature == nil || *cl.temperature == 0) && !c.reasoning {
			one := 1.0 // OpenHands retries an empty answer at temperature 1
			cl.temperature = &one
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("complete with model %s: %w", c.cfg.Model, err)
		}
	}
}

// attempt makes one provider request under the per-call timeout.
func (c *client) attempt(ctx context.Context, cl *call) (*completion, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("complete with model %s: %w", c.cfg.Model, err)
	}
	info := &attemptInfo{}
	actx := context.WithValue(ctx, attemptKey{}, info)
	if c.policy.attemptTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, c.policy.attemptTimeout)
		defer cancel()
	}
	start := c.now()
	comp, err := c.p.complete(actx, cl)
	latency := c.now().Sub(start)
	if err == nil {
		return comp, latency, nil
	}
	if ctx.Err() != nil { // the caller gave up: not the provider's fault, not retried
		return nil, latency, fmt.Errorf("complete with model %s: %w", c.cfg.Model, ctx.Err())
	}
	f, isAnswer := c.p.failure(err)
	_, header := info.get()
	if !isAnswer {
		f = failure{}
		header = nil
	}
	return nil, latency, c.classify(err, f, header)
}

// buildCall maps the config and request onto the provider request, following OpenHands' choice
// of parameters (reasoning models get reasoning_effort and no sampling parameters).
func (c *client) buildCall(req Request) *call {
	cl := &call{model: c.route.model, tools: req.Tools, stop: slices.Clone(req.Stop), seed: c.cfg.Seed,
		topK: c.cfg.TopK}
	cl.messages = cloneMessages(req.Messages, c.caching)
	if c.reasoning {
		cl.reasoningEffort = c.cfg.ReasoningEffort
	} else {
		t := c.cfg.Temperature
		if req.Temperature != nil {
			t = *req.Temperature
		}
		p := c.cfg.TopP
		cl.temperature, cl.topP = &t, &p
	}
	if c.cfg.MaxOutputTokens != nil && *c.cfg.MaxOutputTokens > 0 {
		cl.maxTokens = *c.cfg.MaxOutputTokens
	} else if c.route.api == apiAnthropic {
		// Anthropic requires max_tokens; OpenHands fills it from LiteLLM's model info.
		cl.maxTokens = defaultAnthropicMaxTokens
		if c.known && c.facts.maxOutput > 0 {
			cl.maxTokens = c.facts.maxOutput
		}
	}
	if c.route.litellmProxy && len(req.Metadata) > 0 {
		cl.metadata = req.Metadata
	}
	return cl
}

// cloneMessages copies messages so conversions never touch the caller's, dropping cache marks
// when prompt caching is off.
func cloneMessages(in []Message, caching bool) []Message {
	out := make([]Message, len(in))
	for i, m := range in {
		m.Content = slices.Clone(m.Content)
		if !caching {
			for j := range m.Content {
				m.Content[j].CacheControl = false
			}
		}
		m.ToolCalls = slices.Clone(m.ToolCalls)
		out[i] = m
	}
	return out
}

// finish turns a successful answer into a Response and records its metrics.
func (c *client) finish(comp *completion, latency time.Duration, tools []Tool, textTools bool, sent []Message) (*Response, error) {
	if textTools {
		content, calls := parseTextToolCall(comp.content, tools, countTextToolCalls(sent)+1)
		comp.content, comp.toolCalls = content, calls
		comp.toolIndexes = nil
		if len(calls) > 0 {
			comp.toolIndexes = []int{1} // OpenHands' converter numbers its single call 1
			comp.finishReason = "tool_calls"
		}
	}
	if comp.created == 0 {
		comp.created = c.now().Unix()
	}
	resp := &Response{
		ID:           comp.id,
		Content:      comp.content,
		ToolCalls:    comp.toolCalls,
		FinishReason: comp.finishReason,
		Usage:        comp.usage,
		Latency:      latency,
	}
	mr, err := modelResponse(comp)
	if err != nil {
		return nil, fmt.Errorf("complete with model %s: encode model_response: %w", c.cfg.Model, err)
	}
	resp.ModelResponse = mr

	c.metrics.AddResponseLatency(latency, comp.id)
	if facts, ok := c.prices(); ok {
		resp.Cost = facts.cost(comp.usage)
		c.metrics.AddCost(resp.Cost, c.now())
	}
	c.metrics.AddTokenUsage(comp.usage, c.contextWindow(), comp.id)
	c.log.Debug("llm call", "model", c.cfg.Model, "response_id", comp.id, "latency", latency,
		"prompt_tokens", comp.usage.PromptTokens, "completion_tokens", comp.usage.CompletionTokens,
		"cache_read_tokens", comp.usage.CacheReadTokens, "cost", resp.Cost)
	return resp, nil
}

// prices are the table's figures with the config's overrides. With an override, cache tokens are
// billed as input (LiteLLM's custom_cost_per_token does the same).
func (c *client) prices() (modelFacts, bool) {
	f, ok := c.facts, c.known
	in, out := c.cfg.InputCostPerToken, c.cfg.OutputCostPerToken
	if in == nil && out == nil {
		return f, ok
	}
	f.inputAbove200k, f.outputAbove200k = 0, 0
	f.cacheRead, f.cacheWrite = 0, 0
	if in != nil {
		f.input = *in
	}
	if out != nil {
		f.output = *out
	}
	return f, true
}

func (c *client) contextWindow() int {
	if c.cfg.MaxInputTokens != nil && *c.cfg.MaxInputTokens > 0 {
		return *c.cfg.MaxInputTokens
	}
	return c.facts.contextWindow
}

// textOf joins a message's text parts.
func textOf(parts []ContentPart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}
