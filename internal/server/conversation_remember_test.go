package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

// TestRememberPrompt: the events around the chosen one go to the user's LLM, and the prompt in its
// <update_prompt> tags comes back.
func TestRememberPrompt(t *testing.T) {
	f := newConvFixture(t, Options{})
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, time.Now(), nil)
	f.seedEvents(id, false) // 0..4; 4 is an agent state change
	elog, err := f.store.OpenEventLog(id)
	if err != nil {
		t.Fatal(err)
	}
	st := events.NewStream(id, elog, events.StreamOptions{})
	for i := 5; i < 15; i++ {
		msg := &events.MessageAction{Content: fmt.Sprintf("message %d", i), ImageURLs: []string{}, FileURLs: []string{}}
		if _, err := st.Append(context.Background(), events.NewAction(msg), events.SourceUser); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	path := "/api/conversations/" + id + "/remember_prompt"
	f.expect("GET", path+"?event_id=7", "", 400, `{"error":"Settings not found: choose an LLM in the settings first."}`)

	model := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Reply("Here it is.\n<update_prompt>\n  Record that `ls` lists the repository root.\n</update_prompt>"),
		llmtest.Fail(401, "Incorrect API key provided"),
	})
	f.saveLLMSettings("sk-remember", model.URL)

	f.expect("GET", path+"?event_id=7", "", 200, `{"status":"success","prompt":"Record that `+"`ls`"+` lists the repository root."}`)
	reqs := model.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d LLM requests", len(reqs))
	}
	req := reqs[0]
	if req.APIKey() != "sk-remember" || req.Model != "gpt-4o" {
		t.Fatalf("LLM request with key %q, model %q", req.APIKey(), req.Model)
	}
	// Up to 4 history events at or before 7 (the state change 4 is no part of it), 5 after.
	for _, want := range []string{"[3] MessageAction from agent: done", "[5] MessageAction from user: message 5", "[7] ", "[12] "} {
		if !strings.Contains(req.System, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, req.System)
		}
	}
	for _, unwanted := range []string{"[2] ", "[4] ", "[13] "} {
		if strings.Contains(req.System, unwanted) {
			t.Errorf("system prompt has %q:\n%s", unwanted, req.System)
		}
	}
	if len(req.Messages) != 1 || req.Messages[0].Role != "user" {
		t.Fatalf("messages %+v", req.Messages)
	}

	// The provider's refusal is a 502 that says why, without the key.
	body := f.expect("GET", path+"?event_id=7", "", 502, "")
	if !strings.Contains(body, "Incorrect API key provided") || strings.Contains(body, "sk-remember") {
		t.Fatalf("LLM failure answered %s", body)
	}

	// Bad input.
	var v struct {
		Detail []struct {
			Type string `json:"type"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(f.expect("GET", path, "", 422, "")), &v); err != nil || len(v.Detail) != 1 || v.Detail[0].Type != "missing" {
		t.Fatalf("missing event_id: %+v %v", v, err)
	}
	f.expect("GET", path+"?event_id=seven", "", 422, "")
	f.expect("GET", path+"?event_id=99", "", 404, `{"error":"Event 99 not found in this conversation."}`)
	f.expect("GET", "/api/conversations/ffffffffffffffffffffffffffffffff/remember_prompt?event_id=1", "", 404,
		`{"detail":"Conversation ffffffffffffffffffffffffffffffff not found"}`)
	if n := len(model.Requests()); n != 2 {
		t.Fatalf("%d LLM requests, want 2: bad input must not reach the LLM", n)
	}
}
