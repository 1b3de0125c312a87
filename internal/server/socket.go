package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/socketio"
)

// SocketOptions configure NewSockets.
type SocketOptions struct {
	// SessionAPIKey, when set, must be given as the session_api_key query parameter.
	SessionAPIKey string
	Logger        *slog.Logger
	// PingInterval and PingTimeout override Engine.IO's heartbeat (25 s and 20 s).
	PingInterval, PingTimeout time.Duration
}

// Sockets binds the Socket.IO server at /socket.io/ to the conversation manager (server.md §3):
// connects join conversations, oh_user_action events go to their streams, and it is the manager's
// session.Emitter for oh_event payloads.
type Sockets struct {
	io  *socketio.Server
	key string
	log *slog.Logger
	mgr conversation.Manager

	// mu guards socks.
	mu    sync.Mutex
	socks map[string]*socketio.Socket
}

var _ session.Emitter = (*Sockets)(nil)

// NewSockets makes the binding; SetManager must be called before it serves.
func NewSockets(opts SocketOptions) *Sockets {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sockets{key: opts.SessionAPIKey, log: log, socks: map[string]*socketio.Socket{}}
	s.io = socketio.New(socketio.Options{
		PingInterval: opts.PingInterval, PingTimeout: opts.PingTimeout, Logger: log,
		Connect: s.connect, OnEvent: s.onEvent,
		OnDisconnect: func(sock *socketio.Socket, reason string) {
			s.mu.Lock()
			delete(s.socks, sock.ID())
			s.mu.Unlock()
			if s.mgr != nil {
				s.mgr.DisconnectFromSession(sock.ID())
			}
			log.Debug("socket disconnected", "sid", sock.ID(), "reason", reason)
		},
	})
	return s
}

// SetManager connects the binding to the conversation manager.
func (s *Sockets) SetManager(m conversation.Manager) { s.mgr = m }

// Handler serves /socket.io/.
func (s *Sockets) Handler() http.Handler { return s.io }

// Close disconnects every socket.
func (s *Sockets) Close() { s.io.Close() }

// NumSockets counts the connected sockets.
func (s *Sockets) NumSockets() int { return s.io.NumSockets() }

func room(conversationID string) string { return "room:" + conversationID }

// connect runs before the client's connect is acknowledged: it checks the query, then joins the
// conversation (replaying its events to this socket and starting its agent loop).
func (s *Sockets) connect(sock *socketio.Socket) error {
	q := sock.Query()
	id := firstValue(q["conversation_id"])
	if id == "" {
		return &socketio.ConnectError{Message: "No conversation_id in query params"}
	}
	if s.key != "" && firstValue(q["session_api_key"]) != s.key {
		// OpenHands raises (and never answers) when the key is absent; refusing is clearer.
		return &socketio.ConnectError{Message: "invalid_session_api_key"}
	}
	latest := int64(-1)
	if v, err := strconv.ParseInt(firstValue(q["latest_event_id"]), 10, 64); err == nil {
		latest = v
	}
	providers := conversation.ParseProviders(q["providers_set"])
	for _, p := range providers {
		switch p {
		case "github", "gitlab", "bitbucket":
		default:
			return &socketio.ConnectError{Message: fmt.Sprintf("Unknown git provider %q in providers_set", p)}
		}
	}
	if s.mgr == nil {
		return &socketio.ConnectError{Message: "Failed to join conversation"}
	}
	s.mu.Lock()
	s.socks[sock.ID()] = sock
	s.mu.Unlock()
	_, err := s.mgr.Join(sock.Context(), conn{sock}, id, conversation.JoinOptions{LatestEventID: latest, ProvidersSet: providers})
	if err == nil {
		return nil
	}
	s.mu.Lock()
	delete(s.socks, sock.ID())
	s.mu.Unlock()
	switch {
	case errors.Is(err, conversation.ErrSettingsNotFound):
		return &socketio.ConnectError{Message: "Settings not found", Data: map[string]string{"msg_id": "CONFIGURATION$SETTINGS_NOT_FOUND"}}
	case errors.Is(err, conversation.ErrNotFound):
		return &socketio.ConnectError{Message: "Conversation not found", Data: map[string]string{"msg_id": "CONVERSATION$NOT_FOUND"}}
	default:
		s.log.Warn("a socket could not join its conversation", "conversation_id", id, "err", err)
		return &socketio.ConnectError{Message: "Failed to join conversation: " + err.Error()}
	}
}

// conn adapts a socket to conversation.Conn.
type conn struct{ sock *socketio.Socket }

func (c conn) ID() string { return c.sock.ID() }

func firstValue(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// onEvent handles oh_user_action (and the legacy oh_action).
func (s *Sockets) onEvent(sock *socketio.Socket, name string, args []json.RawMessage) {
	if name != "oh_user_action" && name != "oh_action" {
		s.log.Warn("unknown socket event ignored", "sid", sock.ID(), "event", name)
		return
	}
	if len(args) == 0 {
		sock.EmitRaw("oh_event", session.ErrorPayload("The event had no payload."))
		return
	}
	// The event is posted, not awaited (the room gets it once it is durable): no deadline needed.
	if err := s.mgr.SendToEventStream(sock.Context(), sock.ID(), args[0]); err != nil {
		s.log.Info("a client event was refused", "sid", sock.ID(), "err", err)
		msg := err.Error()
		switch {
		case errors.Is(err, conversation.ErrNotRunning):
			msg = "The conversation is not running: reload the page to start it again."
		case errors.Is(err, session.ErrNotAccepted):
			msg = "Your message was not accepted: " + msg
		}
		sock.EmitRaw("oh_event", session.ErrorPayload(msg))
	}
}

// EmitTo implements session.Emitter.
func (s *Sockets) EmitTo(connID string, payload []byte) {
	s.mu.Lock()
	sock := s.socks[connID]
	s.mu.Unlock()
	if sock != nil {
		sock.Send(s.io.Prepare("oh_event", payload))
	}
}

// EmitRoom implements session.Emitter.
func (s *Sockets) EmitRoom(conversationID string, payload []byte) {
	r := room(conversationID)
	if s.io.RoomSize(r) == 0 {
		return
	}
	s.io.Broadcast(r, s.io.Prepare("oh_event", payload))
}

// JoinRoom implements session.Emitter.
func (s *Sockets) JoinRoom(connID, conversationID string) {
	s.mu.Lock()
	sock := s.socks[connID]
	s.mu.Unlock()
	if sock != nil {
		sock.Join(room(conversationID))
	}
}

// DisconnectRoom implements session.Emitter.
func (s *Sockets) DisconnectRoom(conversationID string) { s.io.DisconnectRoom(room(conversationID)) }
