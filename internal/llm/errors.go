package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ProviderError is a failed completion: which model, what the provider answered, and the sentinel
// (ErrAuthentication, ErrRateLimited…) callers branch on with errors.Is. Its text never holds the
// API key.
type ProviderError struct {
	Model    string // the configured model name
	Provider string // the LiteLLM provider name ("openai", "anthropic", "openrouter"…)
	// StatusCode is the HTTP status; 0 when no answer came (timeout, refused connection).
	StatusCode int
	// Code is the provider's error code or type ("invalid_api_key", "rate_limit_error").
	Code string
	// Message is the provider's explanation.
	Message string
	// Attempts is how many attempts were made.
	Attempts int
	// Kind is the sentinel this error wraps.
	Kind error
	// RetryAfter is the wait the provider asked for, if any.
	RetryAfter time.Duration

	cause     error
	retryable bool
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v for model %s", e.Kind, e.Model)
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, " (%s, HTTP %d)", e.Provider, e.StatusCode)
	case e.Provider != "":
		fmt.Fprintf(&b, " (%s)", e.Provider)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap exposes the sentinel and the SDK's own error.
func (e *ProviderError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

// failure is what a provider reports of an error answer, before classification.
type failure struct {
	status  int
	code    string // error code or type
	message string
}

// classify turns one attempt's error into a ProviderError and decides whether to try again.
func (c *client) classify(err error, f failure, header http.Header) *ProviderError {
	pe := &ProviderError{Model: c.cfg.Model, Provider: c.route.provider, StatusCode: f.status,
		Code: f.code, cause: err}
	msg := f.message
	if msg == "" && f.status == 0 {
		msg = err.Error()
	}
	pe.Message = c.redact(strings.TrimSpace(msg))
	if header != nil {
		pe.RetryAfter = retryAfter(header, c.now())
	}
	text := strings.ToLower(pe.Message + " " + f.code)

	switch {
	case f.status == 0 && isTimeout(err):
		pe.Kind, pe.retryable = ErrTimeout, true
		if pe.Message == "" || strings.Contains(pe.Message, "context deadline exceeded") {
			pe.Message = "no answer within the configured timeout"
		}
	case f.status == 0:
		pe.Kind, pe.retryable = ErrServiceUnavailable, true
	case f.status != http.StatusTooManyRequests && f.status < 500 && isContextWindow(text):
		pe.Kind = ErrContextWindow
	case f.status == http.StatusPaymentRequired || isOutOfCredits(text):
		pe.Kind = ErrOutOfCredits
	case f.status == http.StatusUnauthorized || (f.status == http.StatusBadRequest && isBadKey(text)):
		pe.Kind = ErrAuthentication
	case f.status == http.StatusForbidden:
		pe.Kind = ErrPermission
	case f.status == http.StatusTooManyRequests:
		pe.Kind, pe.retryable = ErrRateLimited, true
	case isContentPolicy(text):
		pe.Kind = ErrContentPolicy
	case f.status == http.StatusRequestTimeout:
		pe.Kind, pe.retryable = ErrTimeout, true
	case f.status == http.StatusConflict:
		pe.Kind, pe.retryable = ErrServiceUnavailable, true
	case f.status >= 500:
		pe.Kind, pe.retryable = ErrServiceUnavailable, true
	default:
		pe.Kind = ErrBadRequest
	}
	return pe
}

// redact removes the API key from provider text (some providers echo part or all of a bad key).
func (c *client) redact(s string) string {
	if k := c.route.apiKey; len(k) >= 4 {
		s = strings.ReplaceAll(s, k, "***")
	}
	return s
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// The phrases providers use, as LiteLLM's exception mapping recognises them.
var (
	contextWindowPhrases = []string{
		"context_length_exceeded", "context length", "context window", "maximum context",
		"prompt is too long", "input is too long", "too many tokens", "token limit",
		"exceeds the maximum number of tokens", "input token count", "reduce the length",
		"maximum input length", "string_above_max_length", "contextwindowexceeded",
	}
	outOfCreditsPhrases = []string{
		"insufficient_quota", "exceeded your current quota", "credit balance is too low",
		"insufficient credits", "insufficient balance", "out of credits",
	}
	// Gemini answers a bad key with 400 INVALID_ARGUMENT.
	badKeyPhrases        = []string{"api key not valid", "api_key_invalid", "invalid api key"}
	contentPolicyPhrases = []string{
		"content_policy_violation", "content_filter", "content management policy",
		"responsibleaipolicyviolation", "safety system",
	}
)

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func isContextWindow(s string) bool {
	// "max_tokens" errors name a token limit but are about the output budget, not the prompt.
	if strings.Contains(s, "max_tokens") && !strings.Contains(s, "prompt") && !strings.Contains(s, "context") {
		return false
	}
	return containsAny(s, contextWindowPhrases)
}
func isOutOfCredits(s string) bool  { return containsAny(s, outOfCreditsPhrases) }
func isContentPolicy(s string) bool { return containsAny(s, contentPolicyPhrases) }
func isBadKey(s string) bool        { return containsAny(s, badKeyPhrases) }
