package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults for the zero values of Options. The heartbeat and payload values are socket.io's.
const (
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultConnectTimeout = 45 * time.Second
	DefaultMaxPayload     = 4 << 20
	DefaultMaxQueuedBytes = 16 << 20
)

// Options configures a Server. Zero values mean the defaults above.
type Options struct {
	// PingInterval is how often the server pings each client; PingTimeout is how long it then waits
	// for the pong before closing the connection with reason "ping timeout". Both are sent to the
	// client in the open packet.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// ConnectTimeout is how long a new connection may stay without a successful CONNECT.
	ConnectTimeout time.Duration
	// MaxPayload is the largest websocket message accepted from a client; a larger one closes the
	// connection.
	MaxPayload int64
	// MaxQueuedBytes is how many bytes may wait to be written to one client; beyond that the
	// client is too slow and is disconnected.
	MaxQueuedBytes int
	// Logger receives warnings about misbehaving clients and handler panics; nil discards them.
	Logger *slog.Logger

	// Connect is called when a client connects to the default namespace, in that connection's
	// reader goroutine, before the client is told it is connected: frames it sends or broadcasts to
	// the socket reach the client before its "connect" event. An error refuses the connection with
	// CONNECT_ERROR: the error's text, or a *ConnectError's Message and Data. Nil accepts everyone.
	Connect func(*Socket) error
	// OnEvent is called for each event the client emits, in order, in the connection's reader
	// goroutine: while it runs, that client's later packets (pongs included) wait, so it must
	// return well within PingTimeout. When the client asked for an acknowledgement, it is sent
	// after OnEvent returns.
	OnEvent func(s *Socket, event string, args []json.RawMessage)
	// OnDisconnect is called exactly once for each socket that was connected, after it has left
	// its rooms, with a reason such as ReasonClientDisconnect.
	OnDisconnect func(s *Socket, reason string)
}

// Disconnect reasons passed to Options.OnDisconnect; the strings are socket.io's.
const (
	ReasonClientDisconnect = "client namespace disconnect" // the client sent DISCONNECT
	ReasonServerDisconnect = "server namespace disconnect" // Socket.Disconnect or Server.DisconnectRoom
	ReasonServerShutdown   = "server shutting down"        // Server.Close
	ReasonTransportClose   = "transport close"             // the client closed the connection
	ReasonTransportError   = "transport error"             // a read or write failed, or the message was too large
	ReasonPingTimeout      = "ping timeout"                // no pong within PingTimeout
	ReasonParseError       = "parse error"                 // a malformed or unsupported (binary) packet
	ReasonForcedClose      = "forced close"                // the client could not keep up (MaxQueuedBytes)
)

// Reasons for connections that never connected; they only appear in logs.
const (
	reasonConnectTimeout = "connect timeout"
	reasonConnectRefused = "connect refused"
)

// ConnectError refuses a connection with a message and data the client sees as the
// connect_error's .message and .data. Connect may return it, or an error wrapping it.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Server is a Socket.IO server. It is an http.Handler for the /socket.io/ path; make one with New
// and stop it with Close.
type Server struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader

	// wg counts handler goroutines (each a socket's reader) and writer goroutines.
	wg sync.WaitGroup

	// mu guards closed and conns.
	mu     sync.Mutex
	closed bool
	conns  map[*Socket]struct{}

	connected atomic.Int64 // sockets that completed CONNECT and have not been torn down

	// roomsMu guards rooms and serializes changes to rooms' member lists.
	roomsMu sync.RWMutex
	rooms   map[string]*room
}

// New returns a server with the given options.
func New(opts Options) *Server {
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = DefaultPingTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.MaxQueuedBytes <= 0 {
		opts.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		opts: opts,
		log:  log,
		upgrader: websocket.Upgrader{
			// OpenHands serves socket.io with cors_allowed_origins='*'.
			CheckOrigin: func(*http.Request) bool { return true },
			// Frames are written by our own writer, never through gorilla's buffered writer: an empty
			// pool keeps gorilla from allocating a write buffer per connection.
			WriteBufferPool: &sync.Pool{},
		},
		conns: make(map[*Socket]struct{}),
		rooms: make(map[string]*room),
	}
}

// Engine.IO's handshake errors, answered with status 400 and engine.io's JSON body.
var (
	errUnknownTransport   = handshakeError{0, "Transport unknown"}
	errUnknownSID         = handshakeError{1, "Session ID unknown"}
	errBadHandshakeMethod = handshakeError{2, "Bad handshake method"}
	errBadRequest         = handshakeError{3, "Bad request"}
	errUnsupportedVersion = handshakeError{5, "Unsupported protocol version"}
)

type handshakeError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e handshakeError) write(w http.ResponseWriter) {
	body, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(body)
}

// ServeHTTP upgrades a GET with EIO=4&transport=websocket to a websocket and serves the socket on it
// until it closes. Anything else gets engine.io's 400 answer.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("transport") != "websocket":
		errUnknownTransport.write(w)
		return
	case q.Has("sid"):
		// An upgrade from HTTP long-polling: we never hand out polling sessions.
		errUnknownSID.write(w)
		return
	case q.Get("EIO") != "4":
		errUnsupportedVersion.write(w)
		return
	case r.Method != http.MethodGet:
		errBadHandshakeMethod.write(w)
		return
	case !websocket.IsWebSocketUpgrade(r):
		errBadRequest.write(w)
		return
	}
	if !srv.enter() {
		http.Error(w, "socket.io server closed", http.StatusServiceUnavailable)
		return
	}
	defer srv.wg.Done()
	conn, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		srv.log.Debug("socket.io upgrade failed", "remote_addr", r.RemoteAddr, "error", err)
		return
	}
	newSocket(srv, conn, r, q).serve()
}

// enter counts a handler goroutine unless the server is closed.
func (srv *Server) enter() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.wg.Add(1)
	return true
}

func (srv *Server) register(s *Socket) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.conns[s] = struct{}{}
	return true
}

func (srv *Server) unregister(s *Socket) {
	srv.mu.Lock()
	delete(srv.conns, s)
	srv.mu.Unlock()
}

// NumSockets reports how many sockets are connected (CONNECT accepted and not yet torn down).
func (srv *Server) NumSockets() int { return int(srv.connected.Load()) }

// Prepare encodes the event `42["event",<arg>]` once, as a frame that can be sent to any number
// of sockets. arg must be valid JSON; nil sends the event without an argument.
func (srv *Server) Prepare(event string, arg json.RawMessage) *Frame {
	return eventFrame(event, arg)
}

// Close closes every connection (their sockets disconnect with ReasonServerShutdown; clients will
// try to reconnect), refuses new ones, and waits until every goroutine of the server has returned.
func (srv *Server) Close() {
	srv.mu.Lock()
	srv.closed = true
	conns := make([]*Socket, 0, len(srv.conns))
	for s := range srv.conns {
		conns = append(conns, s)
	}
	srv.mu.Unlock()
	for _, s := range conns {
		s.abort(ReasonServerShutdown)
	}
	srv.wg.Wait()
}

// newID returns a random, URL-safe identifier of 120 bits.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
