package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openAIProvider speaks chat completions: OpenAI itself and every OpenAI-compatible server
// (Ollama, vLLM, LiteLLM proxy, OpenRouter, DeepSeek, Groq…).
type openAIProvider struct {
	r      route
	client openai.Client
}

func newOpenAIProvider(r route, hc *http.Client) *openAIProvider {
	opts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // one retry policy for every provider: ours
	}
	if r.azure {
		// Azure's deployment URLs: {base}/openai/deployments/{model}/chat/completions?api-version=…
		opts = append(opts,
			option.WithBaseURL(strings.TrimSuffix(r.baseURL, "/")+"/openai/deployments/"+r.model+"/"),
			option.WithQuery("api-version", r.apiVersion),
			option.WithAPIKey("unused"), option.WithHeaderDel("Authorization"),
			option.WithHeader("api-key", r.apiKey))
	} else {
		opts = append(opts, option.WithBaseURL(r.baseURL), option.WithAPIKey(r.apiKey))
		if r.apiKey == "" {
			// Local servers (Ollama, vLLM) take no key; send no Authorization header at all.
			opts = append(opts, option.WithHeaderDel("Authorization"))
		}
	}
	for k, v := range r.headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return &openAIProvider{r: r, client: openai.NewClient(opts...)}
}

func (p *openAIProvider) complete(ctx context.Context, c *call) (*completion, error) {
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(c.model), Messages: openAIMessages(c.messages)}
	for _, t := range c.tools {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  schemaMap(t.Parameters),
		}))
	}
	if len(c.stop) > 0 {
		params.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: c.stop}
	}
	if c.temperature != nil {
		params.Temperature = openai.Float(*c.temperature)
	}
	if c.topP != nil {
		params.TopP = openai.Float(*c.topP)
	}
	if c.seed != nil {
		params.Seed = openai.Int(int64(*c.seed))
	}
	if c.maxTokens > 0 {
		// OpenAI wants max_completion_tokens; Azure and most compatible servers know max_tokens.
		if p.r.provider == "openai" {
			params.MaxCompletionTokens = openai.Int(int64(c.maxTokens))
		} else {
			params.MaxTokens = openai.Int(int64(c.maxTokens))
		}
	}
	if c.reasoningEffort != "" {
		params.ReasoningEffort = shared.ReasoningEffort(c.reasoningEffort)
	}
	var reqOpts []option.RequestOption
	if c.topK != nil {
		reqOpts = append(reqOpts, option.WithJSONSet("top_k", *c.topK))
	}
	if c.metadata != nil {
		reqOpts = append(reqOpts, option.WithJSONSet("metadata", c.metadata))
	}
	res, err := p.client.Chat.Completions.New(ctx, params, reqOpts...)
	if err != nil {
		return nil, err
	}
	return fromOpenAI(res), nil
}

func (p *openAIProvider) failure(err error) (failure, bool) {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return failure{}, false
	}
	f := failure{status: apiErr.StatusCode, code: apiErr.Code, message: apiErr.Message}
	if f.code == "" {
		f.code = apiErr.Type
	}
	if f.message == "" {
		// Not OpenAI's error envelope: some compatible servers answer {"error": "text"} or
		// {"detail": …} or plain text.
		f.message = looseErrorMessage(apiErr.RawJSON())
	}
	return f, true
}

// openAIMessages converts messages; plain text goes as a string (what every compatible server
// accepts), parts only when there are images or cache marks.
func openAIMessages(msgs []Message) []openai.ChatCompletionMessageParamUnion {
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs))
	for _, m := range msgs {
		plain := isPlainText(m.Content)
		switch m.Role {
		case RoleSystem:
			var content openai.ChatCompletionSystemMessageParamContentUnion
			if plain {
				content.OfString = openai.String(textOf(m.Content))
			} else {
				content.OfArrayOfContentParts = openAITextParts(m.Content)
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfSystem: &openai.ChatCompletionSystemMessageParam{Content: content}})
		case RoleUser:
			var content openai.ChatCompletionUserMessageParamContentUnion
			if plain {
				content.OfString = openai.String(textOf(m.Content))
			} else {
				for _, part := range m.Content {
					if part.Type == "image_url" {
						content.OfArrayOfContentParts = append(content.OfArrayOfContentParts, openai.ChatCompletionContentPartUnionParam{
							OfImageURL: &openai.ChatCompletionContentPartImageParam{ImageURL: openai.ChatCompletionContentPartImageImageURLParam{URL: part.ImageURL}},
						})
						continue
					}
					tp := openAITextPart(part)
					content.OfArrayOfContentParts = append(content.OfArrayOfContentParts, openai.ChatCompletionContentPartUnionParam{OfText: &tp})
				}
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfUser: &openai.ChatCompletionUserMessageParam{Content: content}})
		case RoleAssistant:
			am := &openai.ChatCompletionAssistantMessageParam{}
			text := textOf(m.Content)
			switch {
			case !plain:
				for _, tp := range openAITextParts(m.Content) {
					am.Content.OfArrayOfContentParts = append(am.Content.OfArrayOfContentParts,
						openai.ChatCompletionAssistantMessageParamContentArrayOfContentPartUnion{OfText: &tp})
				}
			case text != "" || len(m.ToolCalls) == 0:
				am.Content.OfString = openai.String(text)
			}
			for _, tc := range m.ToolCalls {
				am.ToolCalls = append(am.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments}},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: am})
		case RoleTool:
			tm := &openai.ChatCompletionToolMessageParam{ToolCallID: m.ToolCallID}
			if plain {
				tm.Content.OfString = openai.String(textOf(m.Content))
			} else {
				tm.Content.OfArrayOfContentParts = openAITextParts(m.Content)
			}
			if m.Name != "" {
				tm.SetExtraFields(map[string]any{"name": m.Name})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfTool: tm})
		}
	}
	return out
}

// isPlainText: only text, no cache marks.
func isPlainText(parts []ContentPart) bool {
	for _, p := range parts {
		if p.CacheControl || (p.Type != "text" && p.Type != "") {
			return false
		}
	}
	return true
}

func openAITextParts(parts []ContentPart) []openai.ChatCompletionContentPartTextParam {
	var out []openai.ChatCompletionContentPartTextParam
	for _, p := range parts {
		if p.Type == "text" || p.Type == "" {
			out = append(out, openAITextPart(p))
		}
	}
	return out
}

// openAITextPart carries a cache mark as Anthropic's cache_control, which LiteLLM proxies and
// OpenRouter pass on to Claude models.
func openAITextPart(p ContentPart) openai.ChatCompletionContentPartTextParam {
	tp := openai.ChatCompletionContentPartTextParam{Text: p.Text}
	if p.CacheControl {
		tp.SetExtraFields(map[string]any{"cache_control": map[string]string{"type": "ephemeral"}})
	}
	return tp
}

// schemaMap decodes a tool's JSON Schema for the SDK ({"type":"object"} when empty).
func schemaMap(raw json.RawMessage) shared.FunctionParameters {
	m := shared.FunctionParameters{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err == nil {
			return m
		}
	}
	return shared.FunctionParameters{"type": "object", "properties": map[string]any{}}
}

func fromOpenAI(res *openai.ChatCompletion) *completion {
	c := &completion{id: res.ID, created: res.Created, model: res.Model, systemFingerprint: res.SystemFingerprint}
	c.usage = Usage{
		PromptTokens:     int(res.Usage.PromptTokens),
		CompletionTokens: int(res.Usage.CompletionTokens),
		CacheReadTokens:  int(res.Usage.PromptTokensDetails.CachedTokens),
		CacheWriteTokens: int(res.Usage.PromptTokensDetails.CacheWriteTokens),
	}
	if len(res.Choices) == 0 {
		c.empty = true
		return c
	}
	ch := res.Choices[0]
	c.content = ch.Message.Content
	c.finishReason = ch.FinishReason
	for i, tc := range ch.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		c.toolCalls = append(c.toolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		c.toolIndexes = append(c.toolIndexes, i)
	}
	if c.id == "" {
		c.id = newResponseID()
	}
	return c
}

// looseErrorMessage digs a message out of a non-standard error body.
func looseErrorMessage(raw string) string {
	raw = strings.TrimSpace(raw)
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal([]byte(raw), &v) == nil {
		var s string
		switch {
		case v.Message != "":
			return v.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return s
		case json.Unmarshal(v.Detail, &s) == nil && s != "":
			return s
		}
		var inner struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &inner) == nil && inner.Message != "" {
			return inner.Message
		}
	}
	if len(raw) > 500 {
		raw = raw[:500] + "…"
	}
	return raw
}
