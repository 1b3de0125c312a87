package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/session"
)

// The UI's "remember this" asks for a prompt that would teach the repository's microagent what a
// part of the conversation showed. The answer is the LLM's suggestion, for the user to edit.

const (
	rememberBefore    = 4    // events at or before the chosen one
	rememberAfter     = 5    // events after it
	rememberEventText = 2000 // characters of one event's text in the prompt
	rememberTimeout   = 2 * time.Minute
)

// rememberSkipped are the event classes that are no part of an agent's history.
var rememberSkipped = []string{"NullAction", "NullObservation", "ChangeAgentStateAction", "AgentStateChangedObservation"}

const rememberSystemPrompt = `You help keep a repository's knowledge file up to date. Another AI agent reads that file before it works in the repository; it holds what was learned while working there: conventions, commands that work, pitfalls, decisions.

Here are some events from a recent conversation between a user and an AI agent, oldest first:
<events>
%s
</events>

Decide what, if anything, from these events deserves a place in the knowledge file, and write instructions for the AI that will edit it. The instructions must say what to add or change and where (an existing section or a new one), why it matters (from the events), and give the exact facts to record (commands, paths, values). They must keep the file's structure and style and must not contradict what it already says unless the events show it is wrong. Keep them short and specific.

Put the instructions, and nothing else, between <update_prompt> and </update_prompt>.`

const rememberUserPrompt = "Write the instructions for updating the knowledge file from the events above."

var updatePromptTag = regexp.MustCompile(`(?s)<update_prompt>(.*?)</update_prompt>`)

// handleRememberPrompt answers GET /api/conversations/{id}/remember_prompt?event_id=N with
// {"status":"success","prompt":…}.
func (s *Server) handleRememberPrompt(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, present := queryValue(r, "event_id"); !present {
		writeValidation(w, missingIssue([]any{"query", "event_id"}, nil))
		return
	}
	eventID, ok := queryInt(w, r, "event_id", 0)
	if !ok {
		return
	}
	if s.storedConversation(w, id) == nil {
		return
	}
	settings, err := s.store.LoadSettings()
	if err != nil || settings == nil {
		if err != nil {
			s.log.Error("remember prompt: load settings", "err", err)
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Settings not found: choose an LLM in the settings first."})
		return
	}
	cfg := session.LLMConfig(s.cfg, settings)
	if cfg.Model == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "No LLM model is set: choose one in the settings first."})
		return
	}
	evText, err := s.rememberContext(r.Context(), id, eventID)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		conversationNotFound(w, id)
		return
	case err != nil:
		s.log.Error("remember prompt: read events", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "The conversation's events could not be read."})
		return
	case evText == "":
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("Event %d not found in this conversation.", eventID)})
		return
	}

	client, err := llm.New(cfg, llm.Options{Logger: s.log})
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("LLM %q: %v", cfg.Model, err)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), rememberTimeout)
	defer cancel()
	res, err := client.Complete(ctx, llm.Request{Messages: []llm.Message{
		{Role: "system", Content: llm.Text(fmt.Sprintf(rememberSystemPrompt, evText))},
		{Role: "user", Content: llm.Text(rememberUserPrompt)},
	}})
	if err != nil {
		s.log.Warn("remember prompt: LLM call failed", "conversation_id", id, "model", cfg.Model, "err", err)
		writeJSON(w, http.StatusBadGateway, errorBody{Error: "The LLM could not write the prompt: " + err.Error()})
		return
	}
	prompt := strings.TrimSpace(res.Content)
	if m := updatePromptTag.FindStringSubmatch(prompt); m != nil {
		prompt = strings.TrimSpace(m[1])
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Prompt string `json:"prompt"`
	}{"success", prompt})
}

// rememberContext describes the history events around eventID, one per line, oldest first; ""
// when the conversation has no such event.
func (s *Server) rememberContext(ctx context.Context, id string, eventID int64) (string, error) {
	base := events.Filter{ExcludeHidden: true, ExcludeTypes: rememberSkipped}
	var picked []*events.Event
	found := false
	before := base
	before.StartID, before.EndID, before.Reverse, before.Limit = 0, eventID, true, rememberBefore
	err := s.searchEvents(ctx, id, before, func(ev *events.Event) bool {
		found = found || ev.ID == eventID
		picked = append(picked, ev)
		return true
	})
	if err != nil {
		return "", err
	}
	slices.Reverse(picked)
	after := base
	after.StartID, after.EndID, after.Limit = eventID+1, -1, rememberAfter
	err = s.searchEvents(ctx, id, after, func(ev *events.Event) bool {
		picked = append(picked, ev)
		return true
	})
	if err != nil {
		return "", err
	}
	if !found {
		// The chosen event itself may be one that is no part of the history: accept it when it
		// exists at all.
		exists := false
		err := s.searchEvents(ctx, id, events.Filter{StartID: eventID, EndID: eventID}, func(*events.Event) bool {
			exists = true
			return false
		})
		if err != nil {
			return "", err
		}
		if !exists {
			return "", nil
		}
	}
	var b strings.Builder
	for _, ev := range picked {
		describeEvent(&b, ev)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// describeEvent writes one line (or a few) telling the LLM what an event was.
func describeEvent(b *strings.Builder, ev *events.Event) {
	text := ev.Message()
	if c := ev.Content(); c != "" {
		text = c
	}
	if r := []rune(text); len(r) > rememberEventText {
		text = string(r[:rememberEventText]) + " […]"
	}
	fmt.Fprintf(b, "[%d] %s from %s: %s\n", ev.ID, events.ClassName(ev), ev.Source, text)
}
