package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// createConversationRequest is OpenHands' InitSessionRequest. conversation_id is accepted only
// with Options.AllowSetConversationID.
type createConversationRequest struct {
	Repository               *string           `json:"repository"`
	GitProvider              *string           `json:"git_provider"`
	SelectedBranch           *string           `json:"selected_branch"`
	InitialUserMsg           *string           `json:"initial_user_msg"`
	ImageURLs                []string          `json:"image_urls"`
	ReplayJSON               *string           `json:"replay_json"`
	SuggestedTask            *suggestedTask    `json:"suggested_task"`
	CreateMicroagent         *createMicroagent `json:"create_microagent"`
	ConversationInstructions *string           `json:"conversation_instructions"`
	ConversationID           *string           `json:"conversation_id"`
}

// suggestedTask is OpenHands' SuggestedTask: work the git provider integration proposes.
type suggestedTask struct {
	GitProvider *string `json:"git_provider"`
	TaskType    *string `json:"task_type"`
	Repo        *string `json:"repo"`
	IssueNumber *int    `json:"issue_number"`
	Title       *string `json:"title"`
}

// createMicroagent asks for a conversation that writes a microagent for a repository.
type createMicroagent struct {
	Repo        *string `json:"repo"`
	GitProvider *string `json:"git_provider"`
	Title       *string `json:"title"`
}

var taskTypes = []string{"MERGE_CONFLICTS", "FAILING_CHECKS", "UNRESOLVED_COMMENTS", "OPEN_ISSUE", "OPEN_PR", "CREATE_MICROAGENT"}

// validate checks what pydantic checks for the request; it writes the 422 itself.
func (in *createConversationRequest) validate(w http.ResponseWriter, body []byte) bool {
	var issues []validationIssue
	provider := func(loc []any, p *string) {
		if p != nil && !slices.Contains(gitProviders, *p) {
			issues = append(issues, enumIssue(loc, rawInput(*p), gitProviders))
		}
	}
	provider([]any{"body", "git_provider"}, in.GitProvider)
	if t := in.SuggestedTask; t != nil {
		input := lookupJSON(body, []string{"suggested_task"})
		for _, f := range []struct {
			name    string
			missing bool
		}{{"git_provider", t.GitProvider == nil}, {"task_type", t.TaskType == nil}, {"repo", t.Repo == nil},
			{"issue_number", t.IssueNumber == nil}, {"title", t.Title == nil}} {
			if f.missing {
				issues = append(issues, missingIssue([]any{"body", "suggested_task", f.name}, input))
			}
		}
		provider([]any{"body", "suggested_task", "git_provider"}, t.GitProvider)
		if t.TaskType != nil && !slices.Contains(taskTypes, *t.TaskType) {
			issues = append(issues, enumIssue([]any{"body", "suggested_task", "task_type"}, rawInput(*t.TaskType), taskTypes))
		}
	}
	if c := in.CreateMicroagent; c != nil {
		if c.Repo == nil {
			issues = append(issues, missingIssue([]any{"body", "create_microagent", "repo"}, lookupJSON(body, []string{"create_microagent"})))
		}
		provider([]any{"body", "create_microagent", "git_provider"}, c.GitProvider)
	}
	if in.ConversationID != nil {
		if err := storage.ValidConversationID(*in.ConversationID); err != nil {
			issues = append(issues, validationIssue{Type: "value_error", Loc: []any{"body", "conversation_id"},
				Msg: "Value error, " + err.Error(), Input: rawInput(*in.ConversationID)})
		}
	}
	if len(issues) > 0 {
		writeValidation(w, issues...)
		return false
	}
	return true
}

// handleCreateConversation creates a conversation and starts its agent loop (server.md §2.6).
func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	mgr := s.manager(w)
	if mgr == nil {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		writeValidation(w, missingIssue([]any{"body"}, nil))
		return
	}
	var in createConversationRequest
	allowed := fieldsOf(&in)
	if !s.opts.AllowSetConversationID {
		allowed = fieldsOf(&in, "conversation_id")
	}
	if !decodeObjectData(w, body, &in, allowed) || !in.validate(w, body) {
		return
	}

	trigger := "gui"
	text := deref(in.InitialUserMsg)
	repo, provider := in.Repository, in.GitProvider
	switch {
	case in.SuggestedTask != nil:
		prompt, err := in.SuggestedTask.prompt()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
			return
		}
		text, trigger = prompt, "suggested_task"
	case in.CreateMicroagent != nil:
		trigger = "microagent_management"
		if (repo == nil || *repo == "") && in.CreateMicroagent.Repo != nil && *in.CreateMicroagent.Repo != "" {
			repo = in.CreateMicroagent.Repo
		}
		if provider == nil && in.CreateMicroagent.GitProvider != nil {
			provider = in.CreateMicroagent.GitProvider
		}
	}

	if repo != nil && *repo != "" {
		ok, err := s.canAccessRepo(provider)
		if err != nil {
			s.log.Error("load secrets", "err", err)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error loading git provider tokens"})
			return
		}
		if !ok {
			writeJSON(w, http.StatusBadRequest, newStatusError("STATUS$GIT_PROVIDER_AUTHENTICATION_ERROR", "Unable to access repo "+*repo))
			return
		}
	} else {
		repo = nil
	}

	settings, err := s.store.LoadSettings()
	if errors.Is(err, storage.ErrNotFound) {
		writeJSON(w, http.StatusBadRequest, newStatusError("CONFIGURATION$SETTINGS_NOT_FOUND", conversation.ErrSettingsNotFound.Error()))
		return
	}
	if err != nil {
		s.log.Error("load settings", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong loading settings"})
		return
	}
	if strings.TrimSpace(deref(settings.LLMAPIKey)) == "" {
		writeJSON(w, http.StatusBadRequest, newStatusError("STATUS$ERROR_LLM_AUTHENTICATION", conversation.ErrNoLLMKey.Error()))
		return
	}

	id := newConversationID()
	if in.ConversationID != nil {
		id = *in.ConversationID
	}
	if err := s.ensureMetadata(id, repo, in.SelectedBranch, provider, trigger, settings.LLMModel); err != nil {
		s.log.Error("create conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error creating conversation " + id})
		return
	}
	info, err := mgr.MaybeStartAgentLoop(r.Context(), id, conversation.StartOptions{
		InitialMessage:           initialMessage(text, in.ImageURLs),
		ReplayJSON:               deref(in.ReplayJSON),
		ConversationInstructions: deref(in.ConversationInstructions),
	})
	switch {
	case errors.Is(err, conversation.ErrSettingsNotFound):
		writeJSON(w, http.StatusBadRequest, newStatusError("CONFIGURATION$SETTINGS_NOT_FOUND", err.Error()))
		return
	case errors.Is(err, conversation.ErrNoLLMKey):
		writeJSON(w, http.StatusBadRequest, newStatusError("STATUS$ERROR_LLM_AUTHENTICATION", err.Error()))
		return
	case errors.Is(err, conversation.ErrClosed):
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: err.Error()})
		return
	case err != nil:
		s.log.Error("start conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to start conversation: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, okResponse(id, info.Status, ""))
}

// ensureMetadata writes the metadata of a new conversation; an existing conversation (a
// client-chosen id) keeps its own.
func (s *Server) ensureMetadata(id string, repo, branch, provider *string, trigger string, model *string) error {
	_, err := s.store.GetConversation(id)
	if err == nil {
		return nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	title := session.DefaultTitle(id)
	md := &storage.ConversationMetadata{
		ConversationID:     id,
		SelectedRepository: repo,
		SelectedBranch:     branch,
		GitProvider:        provider,
		Title:              &title,
		Trigger:            &trigger,
		PRNumber:           []int{},
		CreatedAt:          s.now().UTC(),
		LLMModel:           model,
	}
	if err := s.store.CreateConversation(md); err != nil && !errors.Is(err, storage.ErrExists) {
		return err
	}
	return nil
}

// canAccessRepo reports whether a repository of the given provider (any when nil) could be
// reached. gohands has no git provider integration to ask, so a stored token is taken as access;
// the sandbox's clone is where a bad token shows.
func (s *Server) canAccessRepo(provider *string) (bool, error) {
	sec, err := s.store.LoadSecrets()
	if err != nil {
		return false, err
	}
	for name, t := range sec.ProviderTokens {
		if t.Token != "" && (provider == nil || *provider == name) {
			return true, nil
		}
	}
	return false, nil
}

// prompt is the first message of a suggested-task conversation. OpenHands renders a template per
// task type and fails for the types it has none for; so do we, with our own wording.
func (t *suggestedTask) prompt() (string, error) {
	terms := map[string][2]string{
		"github":    {"pull request", "GitHub"},
		"gitlab":    {"merge request", "GitLab"},
		"bitbucket": {"pull request", "Bitbucket"},
	}[*t.GitProvider]
	req, host := terms[0], terms[1]
	ref := fmt.Sprintf("%s #%d in the %s repository %s", req, *t.IssueNumber, host, *t.Repo)
	switch *t.TaskType {
	case "MERGE_CONFLICTS":
		return fmt.Sprintf("Resolve the merge conflicts of %s (%q): check out its branch, merge the target branch, fix the conflicts, make sure it builds and the tests pass, and push the result.", ref, *t.Title), nil
	case "FAILING_CHECKS":
		return fmt.Sprintf("The CI checks of %s (%q) are failing. Find out why from the check logs, fix the code, and push the fix to its branch.", ref, *t.Title), nil
	case "UNRESOLVED_COMMENTS":
		return fmt.Sprintf("Address the unresolved review comments on %s (%q): make the changes the reviewers ask for, reply where a change is not needed, and push to its branch.", ref, *t.Title), nil
	case "OPEN_ISSUE":
		return fmt.Sprintf("Work on issue #%d in the %s repository %s (%q): read it and its comments, implement a fix on a new branch, and open a %s for it.", *t.IssueNumber, host, *t.Repo, *t.Title, req), nil
	}
	return "", fmt.Errorf("suggested tasks of type %s have no prompt", *t.TaskType)
}
