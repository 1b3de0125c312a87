package llm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genai"
)

// geminiProvider speaks the Gemini API's generateContent.
type geminiProvider struct {
	client *genai.Client
}

func newGeminiProvider(r route, hc *http.Client) (*geminiProvider, error) {
	if r.apiKey == "" {
		return nil, fmt.Errorf("the Gemini API needs an API key (api_key or GEMINI_API_KEY)")
	}
	cc := &genai.ClientConfig{
		APIKey:      r.apiKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  hc,
		HTTPOptions: genai.HTTPOptions{BaseURL: r.baseURL}, // no RetryOptions: the SDK does not retry
	}
	if len(r.headers) > 0 {
		cc.HTTPOptions.Headers = http.Header{}
		for k, v := range r.headers {
			cc.HTTPOptions.Headers.Set(k, v)
		}
	}
	client, err := genai.NewClient(context.Background(), cc)
	if err != nil {
		return nil, err
	}
	return &geminiProvider{client: client}, nil
}

func (p *geminiProvider) complete(ctx context.Context, c *call) (*completion, error) {
	contents, gc := geminiRequest(c)
	res, err := p.client.Models.GenerateContent(ctx, c.model, contents, gc)
	if err != nil {
		return nil, err
	}
	return fromGemini(res, c.model), nil
}

func (p *geminiProvider) failure(err error) (failure, bool) {
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) {
		var ptr *genai.APIError
		if !errors.As(err, &ptr) || ptr == nil {
			return failure{}, false
		}
		apiErr = *ptr
	}
	return failure{status: apiErr.Code, code: apiErr.Status, message: apiErr.Message}, true
}

// ourCallIDPrefix marks tool-call ids we made up for Gemini calls that came without one; they are
// not sent back.
const ourCallIDPrefix = "call_gh"

// geminiRequest converts a call: the system messages become the system instruction, assistant
// turns "model" turns with functionCall parts, tool results functionResponse parts in user turns.
func geminiRequest(c *call) ([]*genai.Content, *genai.GenerateContentConfig) {
	gc := &genai.GenerateContentConfig{}
	names := map[string]string{} // tool-call id → function name, for results without a name
	var contents []*genai.Content
	for _, m := range c.messages {
		var parts []*genai.Part
		role := genai.RoleUser
		switch m.Role {
		case RoleSystem:
			if gc.SystemInstruction == nil {
				gc.SystemInstruction = &genai.Content{}
			}
			for _, p := range m.Content {
				if p.Text != "" {
					gc.SystemInstruction.Parts = append(gc.SystemInstruction.Parts, &genai.Part{Text: p.Text})
				}
			}
			continue
		case RoleUser:
			parts = geminiParts(m.Content)
		case RoleAssistant:
			role = genai.RoleModel
			parts = geminiParts(m.Content)
			for _, tc := range m.ToolCalls {
				names[tc.ID] = tc.Name
				var args map[string]any
				_ = json.Unmarshal([]byte(tc.Arguments), &args)
				fc := &genai.FunctionCall{Name: tc.Name, Args: args}
				if !strings.HasPrefix(tc.ID, ourCallIDPrefix) {
					fc.ID = tc.ID
				}
				parts = append(parts, &genai.Part{FunctionCall: fc})
			}
		case RoleTool:
			name := m.Name
			if name == "" {
				name = names[m.ToolCallID]
			}
			fr := &genai.FunctionResponse{Name: name, Response: map[string]any{"content": textOf(m.Content)}}
			if m.ToolCallID != "" && !strings.HasPrefix(m.ToolCallID, ourCallIDPrefix) {
				fr.ID = m.ToolCallID
			}
			parts = append([]*genai.Part{{FunctionResponse: fr}}, geminiImageParts(m.Content)...)
		default:
			continue
		}
		if len(parts) == 0 {
			continue
		}
		if n := len(contents); n > 0 && contents[n-1].Role == role {
			contents[n-1].Parts = append(contents[n-1].Parts, parts...)
			continue
		}
		contents = append(contents, &genai.Content{Role: role, Parts: parts})
	}

	if len(c.tools) > 0 {
		tool := &genai.Tool{}
		for _, t := range c.tools {
			tool.FunctionDeclarations = append(tool.FunctionDeclarations, &genai.FunctionDeclaration{
				Name: t.Name, Description: t.Description, Parameters: geminiSchema(t.Parameters)})
		}
		gc.Tools = []*genai.Tool{tool}
	}
	if c.temperature != nil {
		gc.Temperature = genai.Ptr(float32(*c.temperature))
	}
	if c.topP != nil {
		gc.TopP = genai.Ptr(float32(*c.topP))
	}
	if c.topK != nil {
		gc.TopK = genai.Ptr(float32(*c.topK))
	}
	if c.seed != nil {
		gc.Seed = genai.Ptr(int32(*c.seed))
	}
	if c.maxTokens > 0 {
		gc.MaxOutputTokens = int32(c.maxTokens)
	}
	gc.StopSequences = c.stop
	if budget, ok := map[string]int32{"low": 1024, "medium": 2048, "high": 4096}[c.reasoningEffort]; ok {
		// LiteLLM's mapping of reasoning_effort to a thinking budget.
		gc.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: genai.Ptr(budget)}
	}
	return contents, gc
}

func geminiParts(content []ContentPart) []*genai.Part {
	var out []*genai.Part
	for _, p := range content {
		if p.Type == "image_url" {
			continue
		}
		if p.Text != "" {
			out = append(out, &genai.Part{Text: p.Text})
		}
	}
	return append(out, geminiImageParts(content)...)
}

func geminiImageParts(content []ContentPart) []*genai.Part {
	var out []*genai.Part
	for _, p := range content {
		if p.Type != "image_url" {
			continue
		}
		if mediaType, data, ok := parseDataURL(p.ImageURL); ok {
			if raw, err := base64.StdEncoding.DecodeString(data); err == nil {
				out = append(out, &genai.Part{InlineData: &genai.Blob{MIMEType: mediaType, Data: raw}})
			}
			continue
		}
		out = append(out, &genai.Part{FileData: &genai.FileData{FileURI: p.ImageURL, MIMEType: guessImageType(p.ImageURL)}})
	}
	return out
}

func guessImageType(u string) string {
	switch l := strings.ToLower(u); {
	case strings.HasSuffix(l, ".png"):
		return "image/png"
	case strings.HasSuffix(l, ".gif"):
		return "image/gif"
	case strings.HasSuffix(l, ".webp"):
		return "image/webp"
	}
	return "image/jpeg"
}

// geminiSchema converts a JSON Schema to Gemini's OpenAPI subset, dropping what Gemini refuses
// as OpenHands does for Gemini models (default values, string formats other than enum and
// date-time); keys Gemini's schema lacks (additionalProperties, $schema…) fall away.
func geminiSchema(raw json.RawMessage) *genai.Schema {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return &genai.Schema{Type: genai.TypeObject}
	}
	b, err := json.Marshal(cleanGeminiSchema(v))
	if err != nil {
		return &genai.Schema{Type: genai.TypeObject}
	}
	var s genai.Schema
	if json.Unmarshal(b, &s) != nil {
		return &genai.Schema{Type: genai.TypeObject}
	}
	return &s
}

func cleanGeminiSchema(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			switch k {
			case "default":
				continue
			case "properties":
				props := map[string]any{}
				if m, ok := val.(map[string]any); ok {
					for name, p := range m {
						props[name] = cleanGeminiSchema(p)
					}
				}
				out[k] = props
			case "type":
				out[k], out["nullable"] = geminiType(val)
				if out["nullable"] == false {
					delete(out, "nullable")
				}
			case "enum":
				if list, ok := val.([]any); ok {
					strs := make([]string, len(list))
					for i, e := range list {
						strs[i] = fmt.Sprint(e)
					}
					out[k] = strs
				}
			default:
				out[k] = cleanGeminiSchema(val)
			}
		}
		if f, ok := out["format"].(string); ok && f != "enum" && f != "date-time" && out["type"] == string(genai.TypeString) {
			delete(out, "format")
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cleanGeminiSchema(e)
		}
		return out
	}
	return v
}

// geminiType maps a JSON Schema type (a name or a list with "null") to Gemini's upper-case type.
func geminiType(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return strings.ToUpper(t), false
	case []any:
		name, nullable := "", false
		for _, e := range t {
			s, _ := e.(string)
			if s == "null" {
				nullable = true
			} else if name == "" {
				name = strings.ToUpper(s)
			}
		}
		return name, nullable
	}
	return "", false
}

func fromGemini(res *genai.GenerateContentResponse, model string) *completion {
	c := &completion{id: res.ResponseID, model: model}
	if res.ModelVersion != "" {
		c.model = res.ModelVersion
	}
	if !res.CreateTime.IsZero() {
		c.created = res.CreateTime.Unix()
	}
	if u := res.UsageMetadata; u != nil {
		c.usage = Usage{
			PromptTokens:     int(u.PromptTokenCount),
			CompletionTokens: int(u.CandidatesTokenCount + u.ThoughtsTokenCount),
			CacheReadTokens:  int(u.CachedContentTokenCount),
		}
	}
	if c.id == "" {
		c.id = newResponseID()
	}
	if len(res.Candidates) == 0 || res.Candidates[0] == nil {
		c.empty = true
		if res.PromptFeedback != nil && res.PromptFeedback.BlockReason != "" {
			c.empty = false
			c.finishReason = "content_filter"
		}
		return c
	}
	cand := res.Candidates[0]
	var text strings.Builder
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			switch {
			case p == nil || p.Thought:
			case p.FunctionCall != nil:
				id := p.FunctionCall.ID
				if id == "" {
					id = newGeminiCallID()
				}
				args, _ := json.Marshal(p.FunctionCall.Args)
				if p.FunctionCall.Args == nil {
					args = []byte("{}")
				}
				c.toolIndexes = append(c.toolIndexes, len(c.toolCalls))
				c.toolCalls = append(c.toolCalls, ToolCall{ID: id, Name: p.FunctionCall.Name, Arguments: string(args)})
			default:
				text.WriteString(p.Text)
			}
		}
	}
	c.content = text.String()
	switch cand.FinishReason {
	case genai.FinishReasonMaxTokens:
		c.finishReason = "length"
	case genai.FinishReasonSafety, genai.FinishReasonRecitation, genai.FinishReasonBlocklist,
		genai.FinishReasonProhibitedContent, genai.FinishReasonSPII:
		c.finishReason = "content_filter"
	default:
		c.finishReason = "stop"
	}
	if len(c.toolCalls) > 0 {
		c.finishReason = "tool_calls"
	}
	return c
}

func newGeminiCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return ourCallIDPrefix + hex.EncodeToString(b[:])
}
