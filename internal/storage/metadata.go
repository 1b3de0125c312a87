package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ConversationMetadata is OpenHands' ConversationMetadata (metadata.json). Its JSON has the
// OpenHands keys in the OpenHands order; datetimes are written in UTC as ISO-8601 with a "Z" and
// microseconds when non-zero (2025-07-30T10:12:01.004211Z), which is also how REST responses show them.
type ConversationMetadata struct {
	ConversationID     string
	SelectedRepository *string
	UserID             *string
	SelectedBranch     *string
	GitProvider        *string // github, gitlab or bitbucket
	Title              *string
	LastUpdatedAt      *time.Time
	Trigger            *string // resolver, gui, suggested_task, openhands_api, slack, microagent_management
	PRNumber           []int
	CreatedAt          time.Time
	LLMModel           *string
	AccumulatedCost    float64
	PromptTokens       int
	CompletionTokens   int
	TotalTokens        int
}

// metadataJSON is the wire form; field order is the order OpenHands writes.
type metadataJSON struct {
	ConversationID     string  `json:"conversation_id"`
	SelectedRepository *string `json:"selected_repository"`
	UserID             *string `json:"user_id"`
	SelectedBranch     *string `json:"selected_branch"`
	GitProvider        *string `json:"git_provider"`
	Title              *string `json:"title"`
	LastUpdatedAt      *string `json:"last_updated_at"`
	Trigger            *string `json:"trigger"`
	PRNumber           []int   `json:"pr_number"`
	CreatedAt          *string `json:"created_at"`
	LLMModel           *string `json:"llm_model"`
	AccumulatedCost    float64 `json:"accumulated_cost"`
	PromptTokens       int     `json:"prompt_tokens"`
	CompletionTokens   int     `json:"completion_tokens"`
	TotalTokens        int     `json:"total_tokens"`
}

// errNoCreatedAt: OpenHands treats metadata without created_at as missing, and so do we.
var errNoCreatedAt = errors.New("no created_at")

// MarshalJSON writes the OpenHands metadata.json shape.
func (m ConversationMetadata) MarshalJSON() ([]byte, error) {
	w := metadataJSON{
		ConversationID:     m.ConversationID,
		SelectedRepository: m.SelectedRepository,
		UserID:             m.UserID,
		SelectedBranch:     m.SelectedBranch,
		GitProvider:        m.GitProvider,
		Title:              m.Title,
		Trigger:            m.Trigger,
		PRNumber:           m.PRNumber,
		LLMModel:           m.LLMModel,
		AccumulatedCost:    m.AccumulatedCost,
		PromptTokens:       m.PromptTokens,
		CompletionTokens:   m.CompletionTokens,
		TotalTokens:        m.TotalTokens,
	}
	if w.PRNumber == nil {
		w.PRNumber = []int{}
	}
	if m.LastUpdatedAt != nil {
		s := FormatTime(*m.LastUpdatedAt)
		w.LastUpdatedAt = &s
	}
	created := FormatTime(m.CreatedAt)
	w.CreatedAt = &created
	return json.Marshal(w)
}

// UnmarshalJSON reads metadata.json as OpenHands writes it. Unknown keys (such as the legacy
// github_user_id) are ignored. Missing or null created_at is an error wrapping ErrNotFound, because
// OpenHands treats such a file as no metadata at all.
func (m *ConversationMetadata) UnmarshalJSON(data []byte) error {
	var w metadataJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if w.CreatedAt == nil {
		return fmt.Errorf("%w: %w", errNoCreatedAt, ErrNotFound)
	}
	created, err := ParseTime(*w.CreatedAt)
	if err != nil {
		return fmt.Errorf("created_at: %w", err)
	}
	*m = ConversationMetadata{
		ConversationID:     w.ConversationID,
		SelectedRepository: w.SelectedRepository,
		UserID:             w.UserID,
		SelectedBranch:     w.SelectedBranch,
		GitProvider:        w.GitProvider,
		Title:              w.Title,
		Trigger:            w.Trigger,
		PRNumber:           w.PRNumber,
		CreatedAt:          created,
		LLMModel:           w.LLMModel,
		AccumulatedCost:    w.AccumulatedCost,
		PromptTokens:       w.PromptTokens,
		CompletionTokens:   w.CompletionTokens,
		TotalTokens:        w.TotalTokens,
	}
	if m.PRNumber == nil {
		m.PRNumber = []int{}
	}
	if w.LastUpdatedAt != nil {
		t, err := ParseTime(*w.LastUpdatedAt)
		if err != nil {
			return fmt.Errorf("last_updated_at: %w", err)
		}
		m.LastUpdatedAt = &t
	}
	return nil
}

// FormatTime renders t the way OpenHands' REST API and metadata.json do: UTC, ISO-8601, "Z", and a
// six-digit fraction only when the microseconds are non-zero. Nanoseconds are truncated.
func FormatTime(t time.Time) string {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// naiveLayouts are datetime forms without a zone that Python's isoformat and pydantic produce.
var naiveLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads an ISO-8601 datetime as pydantic accepts it: with a zone ("Z" or an offset, the
// result converted to UTC) or without one, which is taken as UTC. A space may stand for the "T".
func ParseTime(s string) (time.Time, error) {
	return parseISO(s, time.UTC)
}

// parseISO parses s; a zone-less value is taken to be in loc. The result is in UTC.
func parseISO(s string, loc *time.Location) (time.Time, error) {
	v := s
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	// Offsets without a colon (+0000) and without seconds.
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	if !strings.ContainsAny(v[min(len(v), 10):], "Z+-") {
		for _, layout := range naiveLayouts {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q", s)
}
