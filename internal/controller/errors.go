package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/gohands/gohands/internal/llm"
)

// OpenHands runtime status ids for errors (the web UI translates them).
const (
	StatusError                   = "STATUS$ERROR"
	StatusLLMAuthentication       = "STATUS$ERROR_LLM_AUTHENTICATION"
	StatusLLMServiceUnavailable   = "STATUS$ERROR_LLM_SERVICE_UNAVAILABLE"
	StatusLLMOutOfCredits         = "STATUS$ERROR_LLM_OUT_OF_CREDITS"
	StatusLLMContentPolicy        = "STATUS$ERROR_LLM_CONTENT_POLICY_VIOLATION"
	StatusAgentRateLimitedStopped = "CHAT_INTERFACE$AGENT_RATE_LIMITED_STOPPED_MESSAGE"
)

// failure is an error that puts the agent in the error state: the text users see (OpenHands'
// "<ExceptionClass>: <message>" form) and the runtime status id the web session reports.
type failure struct {
	text, status string
}

// llmFailures maps the llm package's sentinels to the exception class OpenHands would report, the
// status id, and what the user can do about it.
var llmFailures = []struct {
	err           error
	class, status string
	hint          string
	final         bool // a new message will not help
}{
	{llm.ErrAuthentication, "AuthenticationError", StatusLLMAuthentication,
		"Check the LLM API key (in the settings, or api_key in config.toml [llm]).", false},
	{llm.ErrPermission, "PermissionDeniedError", StatusError,
		"Check that the API key may use this model, or choose another model.", false},
	{llm.ErrRateLimited, "RateLimitError", StatusAgentRateLimitedStopped,
		"The provider kept rate limiting after every retry; wait a little.", false},
	{llm.ErrServiceUnavailable, "ServiceUnavailableError", StatusLLMServiceUnavailable, "Try again later.", false},
	{llm.ErrOutOfCredits, "BadRequestError", StatusLLMOutOfCredits, "Add credits to the LLM account.", false},
	{llm.ErrContentPolicy, "ContentPolicyViolationError", StatusLLMContentPolicy, "", false},
	{llm.ErrContextWindow, "LLMContextWindowExceedError", StatusError,
		"The conversation could not be condensed enough; start a new conversation or use a model with a larger context window.", true},
	{llm.ErrBadRequest, "BadRequestError", StatusError, "", false},
	{llm.ErrNoResponse, "LLMNoResponseError", StatusError, "", false},
}

// continueHint ends the texts of errors a user at a browser can get past.
const continueHint = " Send a message to continue."

// classify words an error of a step for the user.
func classify(err error, headless bool) failure {
	for _, f := range llmFailures {
		if errors.Is(err, f.err) {
			text := f.class + ": " + err.Error() + "."
			if f.hint != "" {
				text += " " + f.hint
			}
			if !headless && !f.final {
				text += continueHint
			}
			return failure{text: text, status: f.status}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		text := "Timeout: " + err.Error() + "."
		if !headless {
			text += continueHint
		}
		return failure{text: text, status: StatusError}
	}
	// OpenHands names only the exception class here; the error's own text says more.
	return failure{
		text: fmt.Sprintf("RuntimeError: There was an unexpected error while running the agent: %v. "+
			"You can refresh the page or ask the agent to try again.", err),
		status: StatusError,
	}
}
