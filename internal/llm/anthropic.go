package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// defaultAnthropicMaxTokens is max_tokens for Claude models missing from the table.
const defaultAnthropicMaxTokens = 4096

// anthropicProvider speaks Anthropic's messages API.
type anthropicProvider struct {
	client anthropic.Client
}

// newAnthropicProvider builds the SDK client. The SDK refuses non-streaming calls it expects to
// run past ten minutes (large max_tokens) unless a request timeout is given, so one always is:
// the configured timeout, or an hour.
func newAnthropicProvider(r route, hc *http.Client, timeout time.Duration) *anthropicProvider {
	if timeout <= 0 {
		timeout = time.Hour
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(), // credentials and endpoint come from the config only
		option.WithBaseURL(r.baseURL),
		option.WithAPIKey(r.apiKey),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	}
	for k, v := range r.headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return &anthropicProvider{client: anthropic.NewClient(opts...)}
}

func (p *anthropicProvider) complete(ctx context.Context, c *call) (*completion, error) {
	res, err := p.client.Messages.New(ctx, anthropicParams(c))
	if err != nil {
		return nil, err
	}
	return fromAnthropic(res), nil
}

func (p *anthropicProvider) failure(err error) (failure, bool) {
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) {
		return failure{}, false
	}
	f := failure{status: apiErr.StatusCode, code: string(apiErr.Type())}
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(apiErr.RawJSON()), &body) == nil && body.Error.Message != "" {
		f.message = body.Error.Message
		if f.code == "" {
			f.code = body.Error.Type
		}
	} else {
		f.message = looseErrorMessage(apiErr.RawJSON())
	}
	return f, true
}

// anthropicParams converts a call: system messages become the system parameter, tool calls
// tool_use blocks, tool results tool_result blocks in user turns; consecutive turns of one role
// are merged, as the API wants them alternating.
func anthropicParams(c *call) anthropic.MessageNewParams {
	params := anthropic.MessageNewParams{Model: anthropic.Model(c.model), MaxTokens: int64(c.maxTokens)}
	for _, m := range c.messages {
		var blocks []anthropic.ContentBlockParamUnion
		role := anthropic.MessageParamRoleUser
		switch m.Role {
		case RoleSystem:
			for _, part := range m.Content {
				if part.Text == "" {
					continue
				}
				tb := anthropic.TextBlockParam{Text: part.Text}
				if part.CacheControl {
					tb.CacheControl = anthropic.NewCacheControlEphemeralParam()
				}
				params.System = append(params.System, tb)
			}
			continue
		case RoleUser:
			blocks = anthropicBlocks(m.Content)
		case RoleAssistant:
			role = anthropic.MessageParamRoleAssistant
			blocks = anthropicBlocks(m.Content)
			for _, tc := range m.ToolCalls {
				blocks = append(blocks, anthropic.ContentBlockParamUnion{OfToolUse: &anthropic.ToolUseBlockParam{
					ID: tc.ID, Name: tc.Name, Input: toolInput(tc.Arguments)}})
			}
		case RoleTool:
			tr := &anthropic.ToolResultBlockParam{ToolUseID: m.ToolCallID}
			for _, b := range anthropicBlocks(m.Content) {
				switch {
				case b.OfText != nil:
					b.OfText.CacheControl = anthropic.CacheControlEphemeralParam{}
					tr.Content = append(tr.Content, anthropic.ToolResultBlockParamContentUnion{OfText: b.OfText})
				case b.OfImage != nil:
					b.OfImage.CacheControl = anthropic.CacheControlEphemeralParam{}
					tr.Content = append(tr.Content, anthropic.ToolResultBlockParamContentUnion{OfImage: b.OfImage})
				}
			}
			if hasCacheMark(m.Content) {
				tr.CacheControl = anthropic.NewCacheControlEphemeralParam()
			}
			blocks = []anthropic.ContentBlockParamUnion{{OfToolResult: tr}}
		default:
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(params.Messages); n > 0 && params.Messages[n-1].Role == role {
			params.Messages[n-1].Content = append(params.Messages[n-1].Content, blocks...)
			continue
		}
		params.Messages = append(params.Messages, anthropic.MessageParam{Role: role, Content: blocks})
	}
	if len(params.Messages) > 0 && params.Messages[0].Role != anthropic.MessageParamRoleUser {
		// The API wants a user turn first; LiteLLM inserts a placeholder the same way.
		params.Messages = append([]anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("."))}, params.Messages...)
	}

	for _, t := range c.tools {
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name: t.Name, Description: anthropic.String(t.Description), InputSchema: anthropicSchema(t.Parameters)}})
	}
	if c.temperature != nil {
		params.Temperature = anthropic.Float(*c.temperature)
	}
	// top_p 1 is the default; newer Claude models refuse temperature and top_p together.
	if c.topP != nil && *c.topP != 1 {
		params.TopP = anthropic.Float(*c.topP)
	}
	if c.topK != nil {
		params.TopK = anthropic.Int(int64(*c.topK))
	}
	for _, s := range c.stop {
		if strings.TrimSpace(s) != "" {
			params.StopSequences = append(params.StopSequences, s)
		}
	}
	return params
}

// anthropicBlocks converts text and image parts; empty text is dropped (the API refuses it).
func anthropicBlocks(parts []ContentPart) []anthropic.ContentBlockParamUnion {
	var out []anthropic.ContentBlockParamUnion
	for _, part := range parts {
		switch part.Type {
		case "image_url":
			img := &anthropic.ImageBlockParam{}
			if mediaType, data, ok := parseDataURL(part.ImageURL); ok {
				img.Source.OfBase64 = &anthropic.Base64ImageSourceParam{Data: data, MediaType: anthropic.Base64ImageSourceMediaType(mediaType)}
			} else {
				img.Source.OfURL = &anthropic.URLImageSourceParam{URL: part.ImageURL}
			}
			if part.CacheControl {
				img.CacheControl = anthropic.NewCacheControlEphemeralParam()
			}
			out = append(out, anthropic.ContentBlockParamUnion{OfImage: img})
		default:
			if part.Text == "" {
				continue
			}
			tb := &anthropic.TextBlockParam{Text: part.Text}
			if part.CacheControl {
				tb.CacheControl = anthropic.NewCacheControlEphemeralParam()
			}
			out = append(out, anthropic.ContentBlockParamUnion{OfText: tb})
		}
	}
	return out
}

// toolInput is a call's arguments as a JSON object (the API wants an object even when the model
// once wrote something else).
func toolInput(args string) any {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(args), &obj) == nil && obj != nil {
		return json.RawMessage(args)
	}
	return map[string]any{}
}

func anthropicSchema(raw json.RawMessage) anthropic.ToolInputSchemaParam {
	var s map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		s = map[string]any{}
	}
	out := anthropic.ToolInputSchemaParam{Properties: s["properties"]}
	if out.Properties == nil {
		out.Properties = map[string]any{}
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				out.Required = append(out.Required, name)
			}
		}
	}
	extra := map[string]any{}
	for k, v := range s {
		if k != "type" && k != "properties" && k != "required" {
			extra[k] = v
		}
	}
	if len(extra) > 0 {
		out.ExtraFields = extra
	}
	return out
}

// parseDataURL splits "data:image/png;base64,AAAA".
func parseDataURL(u string) (mediaType, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", false
	}
	mediaType, isB64 := strings.CutSuffix(meta, ";base64")
	if !isB64 {
		return "", "", false
	}
	return mediaType, data, true
}

func fromAnthropic(res *anthropic.Message) *completion {
	c := &completion{id: res.ID, model: string(res.Model), anthropicUsage: true}
	var text strings.Builder
	for i, b := range res.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			c.toolCalls = append(c.toolCalls, ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
			c.toolIndexes = append(c.toolIndexes, i)
		}
	}
	c.content = text.String()
	switch res.StopReason {
	case "tool_use":
		c.finishReason = "tool_calls"
	case "max_tokens":
		c.finishReason = "length"
	case "refusal":
		c.finishReason = "content_filter"
	default:
		c.finishReason = "stop"
	}
	u := res.Usage
	c.usage = Usage{
		// LiteLLM counts cached tokens into the prompt, for Anthropic as for OpenAI.
		PromptTokens:     int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
		CompletionTokens: int(u.OutputTokens),
		CacheReadTokens:  int(u.CacheReadInputTokens),
		CacheWriteTokens: int(u.CacheCreationInputTokens),
	}
	if c.id == "" {
		c.id = newResponseID()
	}
	return c
}
