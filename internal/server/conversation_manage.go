package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// Conversation triggers (OpenHands' ConversationTrigger), in its declaration order.
var conversationTriggers = []string{"resolver", "gui", "suggested_task", "openhands_api", "slack", "microagent_management"}

var gitProviders = []string{"github", "gitlab", "bitbucket"}

// defaultMaxAge is OpenHands' conversation_max_age_seconds default: ten days.
const defaultMaxAge = 864000 * time.Second

// newConversationID is a UUID4 as 32 lowercase hex digits, as OpenHands makes them.
func newConversationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// conversationInfo is OpenHands' ConversationInfo, fields in its order.
type conversationInfo struct {
	ConversationID     string  `json:"conversation_id"`
	Title              string  `json:"title"`
	LastUpdatedAt      *string `json:"last_updated_at"`
	Status             string  `json:"status"`
	RuntimeStatus      *string `json:"runtime_status"`
	SelectedRepository *string `json:"selected_repository"`
	SelectedBranch     *string `json:"selected_branch"`
	GitProvider        *string `json:"git_provider"`
	Trigger            *string `json:"trigger"`
	NumConnections     int     `json:"num_connections"`
	URL                *string `json:"url"`
	SessionAPIKey      *string `json:"session_api_key"`
	CreatedAt          string  `json:"created_at"`
	PRNumber           []int   `json:"pr_number"`
}

// conversationInfos describes stored conversations with what the manager knows of their loops.
func (s *Server) conversationInfos(list []*storage.ConversationMetadata) []conversationInfo {
	loops := map[string]conversation.LoopInfo{}
	conns := map[string]int{}
	if mgr := s.opts.Conversations; mgr != nil && len(list) > 0 {
		ids := make([]string, len(list))
		for i, md := range list {
			ids[i] = md.ConversationID
		}
		for _, li := range mgr.AgentLoopInfo(ids...) {
			loops[li.ConversationID] = li
		}
		for _, cid := range mgr.Connections(ids...) {
			conns[cid]++
		}
	}
	out := make([]conversationInfo, 0, len(list))
	for _, md := range list {
		info := conversationInfo{
			ConversationID:     md.ConversationID,
			Title:              session.DefaultTitle(md.ConversationID),
			Status:             string(conversation.StatusStopped),
			SelectedRepository: md.SelectedRepository,
			SelectedBranch:     md.SelectedBranch,
			GitProvider:        md.GitProvider,
			Trigger:            md.Trigger,
			NumConnections:     conns[md.ConversationID],
			CreatedAt:          storage.FormatTime(md.CreatedAt),
			PRNumber:           md.PRNumber,
		}
		if md.Title != nil && *md.Title != "" {
			info.Title = *md.Title
		}
		if md.LastUpdatedAt != nil {
			t := storage.FormatTime(*md.LastUpdatedAt)
			info.LastUpdatedAt = &t
		}
		if info.PRNumber == nil {
			info.PRNumber = []int{}
		}
		if li, ok := loops[md.ConversationID]; ok {
			info.Status = string(li.Status)
			if li.RuntimeStatus != "" {
				rs := li.RuntimeStatus
				info.RuntimeStatus = &rs
			}
			if li.URL != "" {
				u := li.URL
				info.URL = &u
			}
		}
		out = append(out, info)
	}
	return out
}

// handleListConversations pages through stored conversations newest first. As in OpenHands, the
// page is cut before the age and query filters apply, so a page can be short while next_page_id
// is set.
func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryInt(w, r, "limit", 20)
	if !ok {
		return
	}
	if limit < 1 {
		writeValidation(w, validationIssue{Type: "greater_than_equal", Loc: []any{"query", "limit"},
			Msg: "Input should be greater than or equal to 1", Input: rawInput(r.URL.Query().Get("limit")),
			Ctx: struct {
				GE int `json:"ge"`
			}{1}})
		return
	}
	limit = min(limit, 1<<31) // no overflow below
	offset := 0
	if pid, given := queryValue(r, "page_id"); given && pid != "" {
		n, err := pageOffset(pid)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid page_id"})
			return
		}
		offset = n
	}
	repo, byRepo := queryValue(r, "selected_repository")
	trigger, byTrigger := queryValue(r, "conversation_trigger")
	if byTrigger && !slices.Contains(conversationTriggers, trigger) {
		writeValidation(w, enumIssue([]any{"query", "conversation_trigger"}, rawInput(trigger), conversationTriggers))
		return
	}

	list, errs := s.store.ListConversations()
	for _, err := range errs {
		s.log.Warn("skipping unreadable conversation", "err", err)
	}
	total := len(list) + len(errs)
	start := min(offset, len(list))
	end := min(int64(offset)+limit, int64(total))
	var next *string
	if end < int64(total) {
		p := base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(end, 10)))
		next = &p
	}
	page := list[start:max(start, int(min(end, int64(len(list)))))]

	maxAge := defaultMaxAge
	if secs := s.cfg.Core.ConversationMaxAgeSeconds; secs > 0 {
		maxAge = time.Duration(secs) * time.Second
	}
	now := s.now()
	var kept []*storage.ConversationMetadata
	for _, md := range page {
		if now.Sub(md.CreatedAt) > maxAge {
			continue
		}
		if byRepo && (md.SelectedRepository == nil || *md.SelectedRepository != repo) {
			continue
		}
		if byTrigger && (md.Trigger == nil || *md.Trigger != trigger) {
			continue
		}
		kept = append(kept, md)
	}
	writeJSON(w, http.StatusOK, struct {
		Results    []conversationInfo `json:"results"`
		NextPageID *string            `json:"next_page_id"`
	}{Results: s.conversationInfos(kept), NextPageID: next})
}

// pageOffset decodes a page_id: base64 of a decimal offset.
func pageOffset(pid string) (int, error) {
	raw, err := base64.StdEncoding.DecodeString(pid)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(pid); err != nil {
			return 0, err
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || n < 0 {
		return 0, errors.New("not an offset")
	}
	return min(n, 1<<40), nil
}

// handleGetConversation answers 200 null for an unknown conversation, as OpenHands does; the UI
// relies on it.
func (s *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	md, err := s.store.GetConversation(id)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidID) {
		writeJSON(w, http.StatusOK, nil)
		return
	}
	if err != nil {
		s.log.Error("load conversation metadata", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error loading conversation " + id})
		return
	}
	writeJSON(w, http.StatusOK, s.conversationInfos([]*storage.ConversationMetadata{md})[0])
}

type updateConversationRequest struct {
	Title *json.RawMessage `json:"title"`
}

// handleUpdateConversation renames a conversation.
func (s *Server) handleUpdateConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in updateConversationRequest
	if !decodeObject(w, r, &in, fieldsOf(&in)) {
		return
	}
	title, ok := validTitle(w, in.Title)
	if !ok {
		return
	}
	md, err := s.store.GetConversation(id)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidID) {
		writeJSON(w, http.StatusNotFound, newStatusError("CONVERSATION$NOT_FOUND", "Conversation not found"))
		return
	}
	if err == nil {
		now := s.now().UTC()
		md.Title, md.LastUpdatedAt = &title, &now
		err = s.store.SaveConversation(md)
	}
	if err != nil {
		s.log.Error("update conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, newStatusError("CONVERSATION$UPDATE_ERROR", "Failed to update conversation: "+err.Error()))
		return
	}
	if mgr := s.opts.Conversations; mgr != nil {
		mgr.EmitTitle(id, title)
	}
	writeJSON(w, http.StatusOK, true)
}

type lengthCtx struct {
	MinLength int `json:"min_length,omitempty"`
	MaxLength int `json:"max_length,omitempty"`
}

// validTitle checks a PATCH title as pydantic does (a string of 1 to 200 characters before
// trimming) and returns it trimmed.
func validTitle(w http.ResponseWriter, raw *json.RawMessage) (string, bool) {
	loc := []any{"body", "title"}
	if raw == nil {
		writeValidation(w, missingIssue([]any{"body", "title"}, json.RawMessage("{}")))
		return "", false
	}
	var title string
	if err := json.Unmarshal(*raw, &title); err != nil || string(*raw) == "null" {
		writeValidation(w, validationIssue{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: *raw})
		return "", false
	}
	switch n := utf8.RuneCountInString(title); {
	case n < 1:
		writeValidation(w, validationIssue{Type: "string_too_short", Loc: loc,
			Msg: "String should have at least 1 character", Input: *raw, Ctx: lengthCtx{MinLength: 1}})
		return "", false
	case n > 200:
		writeValidation(w, validationIssue{Type: "string_too_long", Loc: loc,
			Msg: "String should have at most 200 characters", Input: *raw, Ctx: lengthCtx{MaxLength: 200}})
		return "", false
	}
	return strings.TrimSpace(title), true
}

// handleDeleteConversation answers false for an unknown conversation, true once it is gone.
func (s *Server) handleDeleteConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.store.GetConversation(id)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidID) {
		writeJSON(w, http.StatusOK, false)
		return
	}
	mgr := s.manager(w)
	if mgr == nil {
		return
	}
	found, err := mgr.DeleteConversation(r.Context(), id)
	if err != nil {
		s.log.Error("delete conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to delete conversation: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, found)
}

type providersSetRequest struct {
	ProvidersSet []string `json:"providers_set"`
}

// handleStartConversation starts the agent loop of a stored conversation. The body is required
// ({} will do); unknown keys are ignored as pydantic does for this model.
func (s *Server) handleStartConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	mgr := s.manager(w)
	if mgr == nil {
		return
	}
	var in providersSetRequest
	if !decodeObject(w, r, &in, nil) {
		return
	}
	for i, p := range in.ProvidersSet {
		if !slices.Contains(gitProviders, p) {
			writeValidation(w, enumIssue([]any{"body", "providers_set", i}, rawInput(p), gitProviders))
			return
		}
	}
	if _, err := s.store.GetConversation(id); err != nil {
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrInvalidID) {
			s.log.Error("load conversation metadata", "conversation_id", id, "err", err)
		}
		writeJSON(w, http.StatusNotFound, conversationError{Status: "error", ConversationID: id})
		return
	}
	info, err := mgr.MaybeStartAgentLoop(r.Context(), id, conversation.StartOptions{ProvidersSet: in.ProvidersSet})
	if err != nil {
		s.log.Error("start conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, conversationError{Status: "error", ConversationID: id,
			Message: "Failed to start conversation: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, okResponse(id, info.Status, ""))
}

// handleStopConversation closes the agent loop and reports the status it had. Like OpenHands it
// does not check that the conversation exists.
func (s *Server) handleStopConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	mgr := s.opts.Conversations
	status := conversation.StatusStopped
	if mgr != nil {
		if infos := mgr.AgentLoopInfo(id); len(infos) > 0 && infos[0].ConversationID == id {
			status = infos[0].Status
		}
	}
	if status != conversation.StatusStarting && status != conversation.StatusRunning {
		writeJSON(w, http.StatusOK, okResponse(id, status, "Conversation was not running"))
		return
	}
	if err := mgr.CloseSession(r.Context(), id); err != nil {
		s.log.Error("stop conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, conversationError{Status: "error", ConversationID: id,
			Message: "Failed to stop conversation: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, okResponse(id, status, "Conversation stopped successfully"))
}

// initialMessage is the user's first message, when the request brings text or images.
func initialMessage(text string, images []string) *events.MessageAction {
	if text == "" && len(images) == 0 {
		return nil
	}
	if images == nil {
		images = []string{}
	}
	return &events.MessageAction{Content: text, ImageURLs: images, FileURLs: []string{}}
}
