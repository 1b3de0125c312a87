// Package conversation is OpenHands' ConversationManager: it attaches REST calls and socket
// connections to conversations, starts and stops agent loops (one session.Session each), and
// closes idle ones.
//
// Manager is the seam: Standalone keeps everything in this process; a clustered manager (ownership
// and fan-out on Redis) can implement the same interface later.
package conversation

import (
	"context"
	"errors"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/memory"
	"github.com/gohands/gohands/internal/sandbox"
	"github.com/gohands/gohands/internal/storage"
)

// Errors callers branch on. Their texts are OpenHands' where the UI shows them.
var (
	// ErrNotFound: no stored conversation with this id.
	ErrNotFound = errors.New("conversation not found")
	// ErrSettingsNotFound: no settings are stored, so no agent can be configured.
	ErrSettingsNotFound = errors.New("Settings not found")
	// ErrNoLLMKey: the stored settings have no LLM API key.
	ErrNoLLMKey = errors.New("Error authenticating with the LLM provider. Please check your API key")
	// ErrNotRunning: no agent loop runs for the conversation.
	ErrNotRunning = errors.New("Agent session not found for this conversation")
	// ErrMemoryNotReady: the agent loop has not loaded its microagents yet.
	ErrMemoryNotReady = errors.New("Memory is not yet initialized for this conversation")
	// ErrNotJoined: the connection has not joined a conversation.
	ErrNotJoined = errors.New("connection has not joined a conversation")
	// ErrClosed: the manager is shutting down.
	ErrClosed = errors.New("the server is shutting down")
)

// Status is OpenHands' ConversationStatus.
type Status string

const (
	StatusStarting Status = "STARTING"
	StatusRunning  Status = "RUNNING"
	StatusStopped  Status = "STOPPED"
)

// LoopInfo describes a running agent loop.
type LoopInfo struct {
	ConversationID string
	Status         Status
	// RuntimeStatus is the sandbox's last status id (STATUS$READY…), "" when none yet.
	RuntimeStatus string
	// URL is "/api/conversations/<id>".
	URL string
	// NumConnections counts the socket connections joined to the conversation.
	NumConnections int
	// AgentState is the controller's state, "" before the controller exists.
	AgentState events.AgentState
}

// StartOptions are what a new agent loop starts with. A loop that already runs ignores them.
type StartOptions struct {
	// InitialMessage, when set, is appended as the user's first message.
	InitialMessage *events.MessageAction
	// ReplayJSON is a serialized trajectory to replay instead of asking the LLM.
	ReplayJSON string
	// ConversationInstructions are given to the agent's memory.
	ConversationInstructions string
	// ProvidersSet names the git providers the client believes are configured.
	ProvidersSet []string
	// UserID owns the loop; "" in single-user (OSS) mode.
	UserID string
}

// Conn is one client connection (a Socket.IO socket) as the manager sees it.
type Conn interface {
	// ID identifies the connection (the Socket.IO socket id).
	ID() string
}

// JoinOptions come from the socket's connect query.
type JoinOptions struct {
	// LatestEventID is the last event id the client has; replay starts after it (-1: everything).
	LatestEventID int64
	ProvidersSet  []string
	UserID        string
}

// Attached is a conversation held for one REST call: its metadata and a started sandbox. When an
// agent loop runs, the sandbox is the loop's; otherwise the manager starts (re-attaches) the
// conversation's sandbox and keeps it until a while after the last Detach.
type Attached struct {
	ID       string
	Metadata *storage.ConversationMetadata
	Runtime  sandbox.Runtime
	// HostWorkspace is the host directory of the workspace for a local sandbox, "" for a container.
	HostWorkspace string
	// Stream is the conversation's event stream.
	Stream *events.Stream
}

// Manager is the seeds' ConversationManager.
type Manager interface {
	// Attach holds the conversation for a REST call; ErrNotFound when it is not stored. Every
	// successful Attach must be paired with a Detach.
	Attach(ctx context.Context, id string) (*Attached, error)
	Detach(a *Attached)

	// MaybeStartAgentLoop starts the conversation's agent loop unless one runs, and returns its
	// info (Status STARTING for a loop just started). Errors: ErrSettingsNotFound, ErrNoLLMKey,
	// ErrClosed.
	MaybeStartAgentLoop(ctx context.Context, id string, opts StartOptions) (LoopInfo, error)
	IsAgentLoopRunning(id string) bool
	// RunningAgentLoops lists the conversations with a running loop owned by userID ("": all).
	RunningAgentLoops(userID string) []string
	// AgentLoopInfo describes the running loops among ids (all running loops when ids is empty).
	AgentLoopInfo(ids ...string) []LoopInfo
	// CloseSession stops the conversation's agent loop, disconnecting its sockets; no error when
	// none runs.
	CloseSession(ctx context.Context, id string) error
	// DeleteConversation closes the loop, removes the sandbox and the stored conversation. It
	// reports false when the conversation was not stored.
	DeleteConversation(ctx context.Context, id string) (bool, error)

	// SendEvent dispatches a raw event dict (an oh_user_action payload) to a running loop;
	// ErrNotRunning when none runs.
	SendEvent(ctx context.Context, id string, data []byte) error
	// Microagents lists the microagents the loop's memory loaded (ErrNotRunning, ErrMemoryNotReady).
	Microagents(id string) ([]*memory.Microagent, error)
	// EmitTitle tells the conversation's connections that its title changed.
	EmitTitle(id, title string)

	// Join attaches a socket connection: it replays the stored events after LatestEventID to it,
	// adds it to the live fan-out without gap or duplicate, and starts the agent loop if none
	// runs. Errors: ErrSettingsNotFound, ErrClosed.
	Join(ctx context.Context, c Conn, id string, opts JoinOptions) (LoopInfo, error)
	// SendToEventStream dispatches a raw event dict from a joined connection (ErrNotJoined). It
	// returns once the event has its place in the stream, without waiting for the disk: the room
	// receives it when it is durable.
	SendToEventStream(ctx context.Context, connID string, data []byte) error
	// DisconnectFromSession forgets a connection; the agent loop goes on.
	DisconnectFromSession(connID string)
	// Connections maps connection ids to conversation ids, for the given conversations (all when
	// none are given).
	Connections(ids ...string) map[string]string

	// Close stops every agent loop and the cleanup loop.
	Close(ctx context.Context) error
}
