package storage

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// openHandsMetadata is a metadata.json as OpenHands 0.50 writes it: compact, model field order,
// UTC datetimes with "Z" (a fraction only when microseconds are non-zero).
const openHandsMetadata = `{"conversation_id":"4f8a3c2b9d1e4a6f8b0c2d4e6f8a0b1c","selected_repository":"octo/hello",` +
	`"user_id":null,"selected_branch":"main","git_provider":"github","title":"Fix the flaky test",` +
	`"last_updated_at":"2025-07-30T10:15:44.512301Z","trigger":"gui","pr_number":[12,15],` +
	`"created_at":"2025-07-30T10:12:01Z","llm_model":"anthropic/claude-sonnet-4-20250514",` +
	`"accumulated_cost":0.0123,"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500}`

func TestMetadataOpenHandsFile(t *testing.T) {
	var m ConversationMetadata
	if err := json.Unmarshal([]byte(openHandsMetadata), &m); err != nil {
		t.Fatal(err)
	}
	updated := time.Date(2025, 7, 30, 10, 15, 44, 512301000, time.UTC)
	want := ConversationMetadata{
		ConversationID:     "4f8a3c2b9d1e4a6f8b0c2d4e6f8a0b1c",
		SelectedRepository: ptr("octo/hello"),
		SelectedBranch:     ptr("main"),
		GitProvider:        ptr("github"),
		Title:              ptr("Fix the flaky test"),
		LastUpdatedAt:      &updated,
		Trigger:            ptr("gui"),
		PRNumber:           []int{12, 15},
		CreatedAt:          time.Date(2025, 7, 30, 10, 12, 1, 0, time.UTC),
		LLMModel:           ptr("anthropic/claude-sonnet-4-20250514"),
		AccumulatedCost:    0.0123,
		PromptTokens:       1200,
		CompletionTokens:   300,
		TotalTokens:        1500,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != openHandsMetadata {
		t.Errorf("re-encoded metadata differs from OpenHands'\n got %s\nwant %s", out, openHandsMetadata)
	}
}

func TestMetadataDefaultsAndVariants(t *testing.T) {
	// Minimal file, legacy github_user_id, offset and naive datetimes.
	var m ConversationMetadata
	in := `{"conversation_id":"abc","github_user_id":"99","created_at":"2025-07-30T12:12:01.5+02:00","last_updated_at":"2025-07-30 10:13:00"}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 7, 30, 10, 12, 1, 500000000, time.UTC); !m.CreatedAt.Equal(want) || m.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at = %v, want %v in UTC", m.CreatedAt, want)
	}
	if want := time.Date(2025, 7, 30, 10, 13, 0, 0, time.UTC); m.LastUpdatedAt == nil || !m.LastUpdatedAt.Equal(want) {
		t.Errorf("naive last_updated_at = %v, want %v (taken as UTC)", m.LastUpdatedAt, want)
	}
	out, _ := json.Marshal(ConversationMetadata{ConversationID: "abc", CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))})
	const want = `{"conversation_id":"abc","selected_repository":null,"user_id":null,"selected_branch":null,` +
		`"git_provider":null,"title":null,"last_updated_at":null,"trigger":null,"pr_number":[],` +
		`"created_at":"2025-01-02T02:04:05.000006Z","llm_model":null,"accumulated_cost":0,` +
		`"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`
	if string(out) != want {
		t.Errorf("minimal metadata\n got %s\nwant %s", out, want)
	}

	for _, bad := range []string{`{"conversation_id":"abc"}`, `{"conversation_id":"abc","created_at":null}`} {
		err := json.Unmarshal([]byte(bad), &m)
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, errNoCreatedAt) {
			t.Errorf("%s: err = %v, want no created_at / ErrNotFound", bad, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"conversation_id":"abc","created_at":"yesterday"}`), &m); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("bad created_at: err = %v", err)
	}
}

func TestFormatParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		out  string
	}{
		{"2025-07-30T10:12:01.004211Z", time.Date(2025, 7, 30, 10, 12, 1, 4211000, time.UTC), "2025-07-30T10:12:01.004211Z"},
		{"2025-07-30T10:12:01Z", time.Date(2025, 7, 30, 10, 12, 1, 0, time.UTC), "2025-07-30T10:12:01Z"},
		{"2025-07-30T10:12:01.1+00:00", time.Date(2025, 7, 30, 10, 12, 1, 100000000, time.UTC), "2025-07-30T10:12:01.100000Z"},
		{"2025-07-30T12:12:01+0200", time.Date(2025, 7, 30, 10, 12, 1, 0, time.UTC), "2025-07-30T10:12:01Z"},
		{"2025-07-30T10:12:01.123456789Z", time.Date(2025, 7, 30, 10, 12, 1, 123456789, time.UTC), "2025-07-30T10:12:01.123456Z"},
		{"2025-07-30T10:12:01.512301", time.Date(2025, 7, 30, 10, 12, 1, 512301000, time.UTC), "2025-07-30T10:12:01.512301Z"},
		{"2025-07-30", time.Date(2025, 7, 30, 0, 0, 0, 0, time.UTC), "2025-07-30T00:00:00Z"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if s := FormatTime(got); s != tt.out {
			t.Errorf("FormatTime(ParseTime(%q)) = %q, want %q", tt.in, s, tt.out)
		}
	}
	for _, bad := range []string{"", "2025", "07/30/2025", "2025-07-30T25:00:00Z", "2025-07-30T10:12:01-"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) succeeded", bad)
		}
	}
}
