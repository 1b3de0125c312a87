package server

import (
	"errors"
	"net/http"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/memory"
	"github.com/gohands/gohands/internal/storage"
)

// The conversation routes (server.md §2.6, §2.7). Routes whose answer comes from storage alone
// (list, get, rename, stored events, trajectory, feedback) work without a conversation manager,
// every conversation then reading as STOPPED; the others answer 503 when Options.Conversations is
// nil. Routes OpenHands serves through a full attach (starting the sandbox) but that need no
// sandbox here (config, vscode-url, web-hosts, events, microagents, trajectory, feedback) only
// check that the conversation exists, so that asking for them never starts a container.
func (s *Server) conversationRoutes() {
	m := s.mux
	m.HandleFunc("POST /api/conversations", s.handleCreateConversation)
	m.HandleFunc("GET /api/conversations", s.handleListConversations)
	m.HandleFunc("GET /api/conversations/{id}", s.handleGetConversation)
	m.HandleFunc("PATCH /api/conversations/{id}", s.handleUpdateConversation)
	m.HandleFunc("DELETE /api/conversations/{id}", s.handleDeleteConversation)
	m.HandleFunc("POST /api/conversations/{id}/start", s.handleStartConversation)
	m.HandleFunc("POST /api/conversations/{id}/stop", s.handleStopConversation)
	m.HandleFunc("GET /api/conversations/{id}/remember_prompt", s.handleRememberPrompt)

	m.HandleFunc("GET /api/conversations/{id}/config", s.handleRuntimeConfig)
	m.HandleFunc("GET /api/conversations/{id}/vscode-url", s.handleVSCodeURL)
	m.HandleFunc("GET /api/conversations/{id}/web-hosts", s.handleWebHosts)
	m.HandleFunc("GET /api/conversations/{id}/events", s.handleSearchEvents)
	m.HandleFunc("POST /api/conversations/{id}/events", s.handleAddEvent)
	m.HandleFunc("GET /api/conversations/{id}/microagents", s.handleMicroagents)
	m.HandleFunc("GET /api/conversations/{id}/trajectory", s.handleTrajectory)
	m.HandleFunc("POST /api/conversations/{id}/submit-feedback", s.handleSubmitFeedback)

	m.HandleFunc("GET /api/conversations/{id}/list-files", s.handleListFiles)
	m.HandleFunc("GET /api/conversations/{id}/select-file", s.handleSelectFile)
	m.HandleFunc("GET /api/conversations/{id}/zip-directory", s.handleZipDirectory)
	m.HandleFunc("POST /api/conversations/{id}/upload-files", s.handleUploadFiles)
	m.HandleFunc("GET /api/conversations/{id}/git/changes", s.handleGitChanges)
	m.HandleFunc("GET /api/conversations/{id}/git/diff", s.handleGitDiff)
}

// manager returns the conversation manager, or answers 503 and returns nil.
func (s *Server) manager(w http.ResponseWriter) conversation.Manager {
	if s.opts.Conversations == nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "conversations are not available"})
	}
	return s.opts.Conversations
}

// statusError is the {"status":"error","message","msg_id"} body the UI translates by msg_id.
type statusError struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	MsgID   string `json:"msg_id"`
}

func newStatusError(msgID, message string) statusError {
	return statusError{Status: "error", Message: message, MsgID: msgID}
}

// conversationError is the body of start and stop failures.
type conversationError struct {
	Status         string `json:"status"`
	ConversationID string `json:"conversation_id"`
	Message        string `json:"message,omitempty"`
}

// conversationResponse is OpenHands' ConversationResponse.
type conversationResponse struct {
	Status             string  `json:"status"`
	ConversationID     string  `json:"conversation_id"`
	Message            *string `json:"message"`
	ConversationStatus *string `json:"conversation_status"`
}

func okResponse(id string, status conversation.Status, message string) conversationResponse {
	st := string(status)
	resp := conversationResponse{Status: "ok", ConversationID: id, ConversationStatus: &st}
	if message != "" {
		resp.Message = &message
	}
	return resp
}

// conversationNotFound is the 404 of the routes that need a stored conversation.
func conversationNotFound(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusNotFound, detailBody{Detail: "Conversation " + id + " not found"})
}

// storedConversation loads the metadata of the conversation named in the path, answering 404
// itself (nil result) when there is none and 500 when it cannot be read.
func (s *Server) storedConversation(w http.ResponseWriter, id string) *storage.ConversationMetadata {
	md, err := s.store.GetConversation(id)
	if err == nil {
		return md
	}
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidID) {
		conversationNotFound(w, id)
		return nil
	}
	s.log.Error("load conversation metadata", "conversation_id", id, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error loading conversation " + id})
	return nil
}

// handleRuntimeConfig answers as OpenHands' Docker runtime does: no runtime id, the conversation id
// as session id.
func (s *Server) handleRuntimeConfig(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.storedConversation(w, id) == nil {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		RuntimeID *string `json:"runtime_id"`
		SessionID string  `json:"session_id"`
	}{SessionID: id})
}

// handleVSCodeURL: gohands sandboxes have no VS Code server; null makes the UI say it is not
// available.
func (s *Server) handleVSCodeURL(w http.ResponseWriter, r *http.Request) {
	if s.storedConversation(w, r.PathValue("id")) == nil {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		VSCodeURL *string `json:"vscode_url"`
	}{})
}

// handleWebHosts: gohands sandboxes expose no application ports.
func (s *Server) handleWebHosts(w http.ResponseWriter, r *http.Request) {
	if s.storedConversation(w, r.PathValue("id")) == nil {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Hosts map[string]int `json:"hosts"`
	}{Hosts: map[string]int{}})
}

// microagentInfo is OpenHands' MicroagentResponse.
type microagentInfo struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Content  string      `json:"content"`
	Triggers []string    `json:"triggers"`
	Inputs   []inputInfo `json:"inputs"`
	Tools    []string    `json:"tools"`
}

type inputInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) handleMicroagents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	mgr := s.manager(w)
	if mgr == nil || s.storedConversation(w, id) == nil {
		return
	}
	agents, err := mgr.Microagents(id)
	switch {
	case errors.Is(err, conversation.ErrNotRunning), errors.Is(err, conversation.ErrMemoryNotReady):
		writeJSON(w, http.StatusNotFound, errorBody{Error: err.Error()})
		return
	case err != nil:
		s.log.Error("list microagents", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error getting microagents: " + err.Error()})
		return
	}
	out := struct {
		Microagents []microagentInfo `json:"microagents"`
	}{Microagents: []microagentInfo{}}
	for _, a := range agents {
		info := microagentInfo{Name: a.Name, Type: "knowledge", Content: a.Content, Triggers: []string{},
			Inputs: []inputInfo{}, Tools: []string{}}
		// OpenHands lists task microagents among the knowledge ones, and repo microagents
		// without triggers.
		if a.Type == memory.TypeRepo {
			info.Type = "repo"
		} else {
			info.Triggers = append(info.Triggers, a.Triggers...)
		}
		for _, in := range a.Inputs {
			info.Inputs = append(info.Inputs, inputInfo{Name: in.Name, Description: in.Description})
		}
		if a.MCPTools != nil {
			for _, srv := range a.MCPTools.StdioServers {
				info.Tools = append(info.Tools, srv.Name)
			}
		}
		out.Microagents = append(out.Microagents, info)
	}
	writeJSON(w, http.StatusOK, out)
}
