package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/session"
)

// streamLender is implemented by managers that can lend a conversation's event stream for
// reading without starting its sandbox (conversation.Standalone does).
type streamLender interface {
	Stream(id string) (*events.Stream, func(), error)
}

// searchEvents calls fn for each stored event of conversation id that f selects, in f's order,
// until fn returns false. No agent loop or sandbox is needed. An event log can be open only once
// per process, so with a manager the stream is borrowed from it (shared with a running agent
// loop), or with a manager that cannot lend one, from an attachment; without a manager the log is
// opened directly.
func (s *Server) searchEvents(ctx context.Context, id string, f events.Filter, fn func(*events.Event) bool) error {
	if mgr := s.opts.Conversations; mgr != nil {
		lender, ok := mgr.(streamLender)
		if !ok {
			a, err := mgr.Attach(ctx, id)
			if err != nil {
				return err
			}
			defer mgr.Detach(a)
			return s.search(ctx, a.Stream, f, fn)
		}
		stream, release, err := lender.Stream(id)
		if err != nil {
			return err
		}
		defer release()
		return s.search(ctx, stream, f, fn)
	}
	path, err := s.store.EventLogPath(id)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // no event yet; do not create the log
	}
	elog, err := s.store.OpenEventLog(id)
	if err != nil {
		return err
	}
	stream := events.NewStream(id, elog, events.StreamOptions{Logger: s.log})
	defer stream.Close()
	return s.search(ctx, stream, f, fn)
}

// search runs f over stream; events that cannot be decoded are logged and skipped, as OpenHands
// skips event files it cannot read.
func (s *Server) search(ctx context.Context, stream *events.Stream, f events.Filter, fn func(*events.Event) bool) error {
	for ev, err := range stream.Search(ctx, f) {
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("skipping unreadable event", "conversation_id", stream.ConversationID(), "err", err)
			continue
		}
		if !fn(ev) {
			break
		}
	}
	return nil
}

// eventFilterRequest is the optional JSON body of GET …/events: OpenHands' EventFilter. The type
// lists name event classes ("CmdRunAction") or wire kinds ("action:run"); OpenHands cannot bind
// them from JSON at all.
type eventFilterRequest struct {
	ExcludeHidden bool     `json:"exclude_hidden"`
	IncludeTypes  []string `json:"include_types"`
	ExcludeTypes  []string `json:"exclude_types"`
	Query         *string  `json:"query"`
	Source        *string  `json:"source"`
	StartDate     *string  `json:"start_date"`
	EndDate       *string  `json:"end_date"`
}

// handleSearchEvents pages through the stored events (server.md §2.7 item 4).
func (s *Server) handleSearchEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	startID, ok := queryInt(w, r, "start_id", 0)
	if !ok {
		return
	}
	endID, ok := queryInt(w, r, "end_id", -1)
	if !ok {
		return
	}
	// A negative end selects nothing in OpenHands; in events.Filter it would mean "the latest".
	_, endGiven := queryValue(r, "end_id")
	none := endGiven && endID < 0
	reverse, ok := queryBool(w, r, "reverse", false)
	if !ok {
		return
	}
	limit, ok := queryInt(w, r, "limit", 20)
	if !ok {
		return
	}
	if limit < 0 || limit > 100 {
		writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid limit"})
		return
	}
	var in eventFilterRequest
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	if strings.TrimSpace(string(data)) != "" && strings.TrimSpace(string(data)) != "null" {
		if !decodeObjectData(w, data, &in, nil) {
			return
		}
	}
	if s.storedConversation(w, id) == nil {
		return
	}
	f := events.Filter{
		StartID: max(startID, 0), EndID: endID, Reverse: reverse, Limit: int(limit) + 1,
		IncludeTypes: in.IncludeTypes, ExcludeTypes: in.ExcludeTypes, ExcludeHidden: in.ExcludeHidden,
		Query: deref(in.Query), Source: events.Source(deref(in.Source)),
		StartDate: deref(in.StartDate), EndDate: deref(in.EndDate),
	}
	list := []json.RawMessage{}
	hasMore := false
	if none {
		f.StartID, f.EndID = 1, 0
	}
	err := s.searchEvents(r.Context(), id, f, func(ev *events.Event) bool {
		if len(list) == int(limit) {
			hasMore = true
			return false
		}
		raw, err := events.Marshal(ev)
		if err != nil {
			s.log.Warn("skipping unencodable event", "conversation_id", id, "event_id", ev.ID, "err", err)
			return true
		}
		list = append(list, raw)
		return true
	})
	if err != nil {
		s.eventReadFailed(w, id, err, "Error reading events")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Events  []json.RawMessage `json:"events"`
		HasMore bool              `json:"has_more"`
	}{Events: list, HasMore: hasMore})
}

// eventReadFailed answers a failed read of a conversation's events.
func (s *Server) eventReadFailed(w http.ResponseWriter, id string, err error, what string) {
	if errors.Is(err, conversation.ErrNotFound) {
		conversationNotFound(w, id)
		return
	}
	s.log.Error("read events", "conversation_id", id, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: what + ": " + err.Error()})
}

// handleAddEvent hands one raw event dict to the conversation's agent loop, as a socket's
// oh_user_action does. Without a running loop OpenHands fails with an unhandled 500; we answer 409.
func (s *Server) handleAddEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	mgr := s.manager(w)
	if mgr == nil {
		return
	}
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			writeValidation(w, validationIssue{Type: "dict_type", Loc: []any{"body"}, Msg: "Input should be a valid dictionary", Input: data})
			return
		}
		writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid JSON: " + jsonReason(err)})
		return
	}
	if obj == nil {
		writeValidation(w, validationIssue{Type: "dict_type", Loc: []any{"body"}, Msg: "Input should be a valid dictionary", Input: json.RawMessage("null")})
		return
	}
	if s.storedConversation(w, id) == nil {
		return
	}
	switch err := mgr.SendEvent(r.Context(), id, data); {
	case errors.Is(err, conversation.ErrNotRunning):
		writeJSON(w, http.StatusConflict, errorBody{Error: "The conversation is not running: start it before sending events"})
	case errors.Is(err, conversation.ErrNotFound):
		conversationNotFound(w, id)
	case errors.Is(err, session.ErrNotAccepted):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
	case err != nil:
		s.log.Error("send event", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error sending event: " + err.Error()})
	default:
		writeJSON(w, http.StatusOK, struct {
			Success bool `json:"success"`
		}{true})
	}
}

// trajectory is every non-hidden event, in order, as OpenHands writes trajectories.
func (s *Server) trajectory(ctx context.Context, id string) (json.RawMessage, error) {
	var evs []*events.Event
	err := s.searchEvents(ctx, id, events.Filter{EndID: -1, ExcludeHidden: true}, func(ev *events.Event) bool {
		evs = append(evs, ev)
		return true
	})
	if err != nil {
		return nil, err
	}
	return events.MarshalTrajectory(evs, false)
}

func (s *Server) handleTrajectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.storedConversation(w, id) == nil {
		return
	}
	traj, err := s.trajectory(r.Context(), id)
	if err != nil {
		if errors.Is(err, conversation.ErrNotFound) {
			conversationNotFound(w, id)
			return
		}
		s.log.Error("trajectory", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, struct {
			Trajectory *string `json:"trajectory"`
			Error      string  `json:"error"`
		}{Error: "Error getting trajectory: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Trajectory json.RawMessage `json:"trajectory"`
	}{traj})
}

// feedbackRequest is what the UI's feedback form sends.
type feedbackRequest struct {
	Version     string `json:"version"`
	Email       string `json:"email"`
	Polarity    string `json:"polarity"`
	Permissions string `json:"permissions"`
}

// storedFeedback is the feedback file: the request as OpenHands would forward it, with the
// trajectory.
type storedFeedback struct {
	Version     string          `json:"version"`
	Email       string          `json:"email"`
	Polarity    string          `json:"polarity"`
	Feedback    string          `json:"feedback"`
	Permissions string          `json:"permissions"`
	Trajectory  json.RawMessage `json:"trajectory"`
}

// handleSubmitFeedback keeps the feedback and the trajectory in a file under the conversation's
// directory, feedback/<time>.json. OpenHands forwards them to an All-Hands service instead; a
// local server has no business sending a user's trajectory anywhere.
func (s *Server) handleSubmitFeedback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in feedbackRequest
	if !decodeObject(w, r, &in, nil) {
		return
	}
	if in.Permissions == "" {
		in.Permissions = "private"
	}
	var issues []validationIssue
	if in.Polarity != "positive" && in.Polarity != "negative" {
		issues = append(issues, enumIssue([]any{"body", "polarity"}, rawInput(in.Polarity), []string{"positive", "negative"}))
	}
	if in.Permissions != "public" && in.Permissions != "private" {
		issues = append(issues, enumIssue([]any{"body", "permissions"}, rawInput(in.Permissions), []string{"public", "private"}))
	}
	if len(issues) > 0 {
		writeValidation(w, issues...)
		return
	}
	if s.storedConversation(w, id) == nil {
		return
	}
	traj, err := s.trajectory(r.Context(), id)
	if err != nil {
		s.log.Error("feedback trajectory", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to submit feedback"})
		return
	}
	fb := storedFeedback{Version: in.Version, Email: in.Email, Polarity: in.Polarity, Feedback: in.Polarity,
		Permissions: in.Permissions, Trajectory: traj}
	feedbackID, err := s.saveFeedback(id, &fb)
	if err != nil {
		s.log.Error("save feedback", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to submit feedback"})
		return
	}
	// The shape of the UI's FeedbackResponse; it shows the message and builds a share link from
	// feedback_id, which leads nowhere for feedback kept locally.
	type body struct {
		Message    string `json:"message"`
		FeedbackID string `json:"feedback_id"`
		Password   string `json:"password"`
	}
	writeJSON(w, http.StatusOK, struct {
		StatusCode int  `json:"statusCode"`
		Body       body `json:"body"`
	}{http.StatusOK, body{Message: "Feedback saved on this server (it is not sent anywhere).", FeedbackID: feedbackID}})
}

// saveFeedback writes fb as conversations/<id>/feedback/<UTC time>.json and returns that name
// without the extension.
func (s *Server) saveFeedback(id string, fb *storedFeedback) (string, error) {
	dir, err := s.store.ConversationDir(id)
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "feedback")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	data, err := json.Marshal(fb)
	if err != nil {
		return "", err
	}
	base := s.now().UTC().Format("20060102T150405.000000000Z")
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(filepath.Join(dir, name+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return "", err
		}
		return name, nil
	}
}
