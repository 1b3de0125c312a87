package socketio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Socket is one client connected over one websocket. Its methods are safe for concurrent use.
type Socket struct {
	srv    *Server
	id     string // the Socket.IO id, sent in the CONNECT acknowledgement
	conn   *websocket.Conn
	nc     net.Conn // conn's network connection, written to directly by the writer
	query  url.Values
	header http.Header
	remote string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	// auth is the CONNECT payload; set by the reader before Connect is called, read-only after.
	auth json.RawMessage
	// accepted records that CONNECT was accepted; used by the reader goroutine only.
	accepted bool

	connected atomic.Bool // CONNECT accepted; false again once closing
	closeSent atomic.Bool // the writer has written the websocket close frame

	// qmu guards the outbound queue and the closing state below.
	qmu     sync.Mutex
	queue   []*Frame // frames waiting for the writer, in order
	spare   []*Frame // the writer's last batch, emptied, to be the next queue
	qbytes  int      // bytes queued or being written
	closing bool     // no more frames are accepted
	final   bool     // closing gracefully: the writer ends the connection after the queue
	aborted bool     // the connection has been closed
	reason  string   // why the socket closes; the first reason wins

	// wmu is held while bytes go to the connection: by the writer for a batch or a ping, or by
	// Send for a direct write. Lock order: wmu, then qmu.
	wmu sync.Mutex
	// raw is the connection's descriptor for direct writes; nil when it is not a plain socket.
	raw syscall.RawConn

	wake       chan struct{} // tells the writer the queue grew; capacity 1
	pong       chan struct{} // tells the writer a pong arrived; capacity 1
	kill       chan struct{} // closed by abort
	writerDone chan struct{} // closed when the writer returns

	// writer state, used by the writer goroutine only
	iov  [][]byte
	bufs net.Buffers

	// roomsMu guards rooms and roomsLeft. Lock order: roomsMu, then Server.roomsMu.
	roomsMu   sync.Mutex
	rooms     map[string]struct{}
	roomsLeft bool // the socket closed: it joins nothing any more
}

func newSocket(srv *Server, conn *websocket.Conn, r *http.Request, q url.Values) *Socket {
	// The socket outlives the request's handler call only on paper (ServeHTTP returns when the
	// socket is torn down), but its lifetime is its own: keep the request's values, not its
	// cancellation.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	s := &Socket{
		srv:        srv,
		id:         newID(),
		conn:       conn,
		nc:         conn.NetConn(),
		raw:        rawConn(conn.NetConn()),
		query:      q,
		header:     r.Header,
		remote:     r.RemoteAddr,
		ctx:        ctx,
		cancel:     cancel,
		wake:       make(chan struct{}, 1),
		pong:       make(chan struct{}, 1),
		kill:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	s.log = srv.log.With("socket_id", s.id, "remote_addr", s.remote)
	return s
}

// ID is the socket's id: random, URL-safe and unguessable. The client sees it as socket.id.
func (s *Socket) ID() string { return s.id }

// Query is the query of the handshake request, as the client sent it (socket.io-client's query
// option plus EIO and transport).
func (s *Socket) Query() url.Values { return s.query }

// Header is the header of the handshake request.
func (s *Socket) Header() http.Header { return s.header }

// RemoteAddr is the network address of the client (or of the proxy in front of it).
func (s *Socket) RemoteAddr() string { return s.remote }

// Auth is the payload of the client's CONNECT packet (socket.io-client's auth option), or nil.
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Context is cancelled when the socket starts closing.
func (s *Socket) Context() context.Context { return s.ctx }

// Connected reports whether the socket is connected: its CONNECT was accepted and it is not
// closing.
func (s *Socket) Connected() bool { return s.connected.Load() }

// Emit sends the event with one argument, encoded as JSON without HTML escaping. It fails only
// when arg cannot be encoded. Frames sent to a closed socket are discarded.
func (s *Socket) Emit(event string, arg any) error {
	return marshal(arg, func(b []byte) { s.Send(eventFrame(event, b)) })
}

// EmitRaw sends the event with one argument that is already JSON; nil sends the event without an
// argument.
func (s *Socket) EmitRaw(event string, arg json.RawMessage) {
	s.Send(eventFrame(event, arg))
}

// Send queues a frame for the socket's writer and returns without waiting for the network. Frames
// are written in the order they were sent or broadcast to this socket. When more than
// Options.MaxQueuedBytes are waiting, the client is too slow: it is disconnected and will catch up
// when it reconnects.
func (s *Socket) Send(f *Frame) {
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		return
	}
	if len(s.queue) == 0 && s.raw != nil && s.wmu.TryLock() {
		// Nothing waits and nobody writes: write it here, as node does, rather than wake the
		// writer goroutine for every delivery. What the socket does not take now goes to the
		// writer, first in line.
		s.qmu.Unlock()
		s.sendDirect(f)
		return
	}
	s.queue = append(s.queue, f)
	s.qbytes += len(f.b)
	queued := s.qbytes
	s.qmu.Unlock()
	if queued > s.srv.opts.MaxQueuedBytes {
		s.log.Warn("socket.io client too slow; disconnecting it", "queued_bytes", queued)
		s.abort(ReasonForcedClose)
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendDirect writes f without waiting, with wmu held (and released here).
func (s *Socket) sendDirect(f *Frame) {
	n, err := writeDirect(s.raw, f.b)
	if err != nil {
		s.wmu.Unlock()
		s.writeFailed(err)
		return
	}
	if n == len(f.b) {
		s.wmu.Unlock()
		return
	}
	rest := &Frame{b: f.b[n:]}
	s.qmu.Lock()
	if s.aborted {
		s.qmu.Unlock()
		s.wmu.Unlock()
		return
	}
	// Frames queued meanwhile (or by a graceful end) come after the rest of this one.
	s.queue = append(s.queue, nil)
	copy(s.queue[1:], s.queue)
	s.queue[0] = rest
	s.qbytes += len(rest.b)
	s.qmu.Unlock()
	s.wmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Disconnect ends the socket from the server's side: the client gets DISCONNECT (its socket's
// "disconnect" event with reason "io server disconnect") and does not reconnect by itself. The
// socket leaves its rooms at once; frames sent before Disconnect are written first.
func (s *Socket) Disconnect() {
	// Even before the CONNECT acknowledgement (Disconnect called in Connect), DISCONNECT keeps the
	// client from reconnecting.
	s.end(ReasonServerDisconnect, disconnectFrame)
	s.leaveAll()
}

// end closes the socket gracefully: the writer writes what is queued, then last, then a websocket
// close frame, and then shuts down its half of the connection; the reader waits a moment for the
// client to close its half.
func (s *Socket) end(reason string, last ...*Frame) {
	s.endWith(reason, true, last...)
}

// endWith is end, with the close frame left out when gorilla has already sent one.
func (s *Socket) endWith(reason string, sendClose bool, last ...*Frame) {
	if sendClose {
		last = append(last, closeFrame)
	}
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		return
	}
	s.closing = true
	s.final = true
	s.reason = reason
	for _, f := range last {
		s.queue = append(s.queue, f)
		s.qbytes += len(f.b)
	}
	s.qmu.Unlock()
	s.connected.Store(false)
	s.cancel()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// abort closes the connection now, dropping whatever is still queued.
func (s *Socket) abort(reason string) {
	s.qmu.Lock()
	if s.reason == "" {
		s.reason = reason
	}
	if s.aborted {
		s.qmu.Unlock()
		return
	}
	s.aborted = true
	s.closing = true
	clear(s.queue)
	s.queue = s.queue[:0]
	s.qmu.Unlock()
	s.connected.Store(false)
	s.cancel()
	close(s.kill)
	_ = s.nc.Close()
}

func (s *Socket) closeReason() string {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.reason
}

func (s *Socket) isClosing() bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.closing
}

// lingerClose closes a connection the server refuses to read any more, while the client may still be
// sending: closing a socket with unread data makes the kernel reset the connection, and the client
// could lose the close frame that says why. So close our half after the close frame, and discard
// what the client still sends until it closes or closeGrace passes.
func (s *Socket) lingerClose(reason string) {
	// After a message beyond the read limit gorilla has sent the close frame (1009) itself, and
	// its reader is done: discard the raw bytes.
	raw := s.closeSent.Load()
	s.endWith(reason, !raw)
	_ = s.nc.SetReadDeadline(time.Now().Add(closeGrace))
	if raw {
		_, _ = io.Copy(io.Discard, s.nc)
		return
	}
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			return
		}
	}
}

// onClose answers the client's websocket close frame, unless ours is already out.
func (s *Socket) onClose(code int, _ string) error {
	if !s.closeSent.Load() {
		msg := websocket.FormatCloseMessage(code, "")
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	return nil
}

// openFrame is Engine.IO's open packet, the first frame on every connection.
func (s *Socket) openFrame() *Frame {
	o := s.srv.opts
	open := struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{newID(), []string{}, o.PingInterval.Milliseconds(), o.PingTimeout.Milliseconds(), o.MaxPayload}
	b, _ := json.Marshal(open)
	return textFrame(string(engineOpen) + string(b))
}

// serve runs the socket on its connection until it closes, in the handler's goroutine.
func (s *Socket) serve() {
	srv := s.srv
	if !srv.register(s) {
		_ = s.nc.Close()
		s.cancel()
		return
	}
	s.conn.SetReadLimit(srv.opts.MaxPayload)
	s.conn.SetCloseHandler(s.onClose)
	open := s.openFrame()
	s.queue = append(s.queue, open)
	s.qbytes = len(open.b)
	s.wake <- struct{}{}
	srv.wg.Add(1)
	go s.writeLoop()
	connectTimer := time.AfterFunc(srv.opts.ConnectTimeout, func() {
		if !s.connected.Load() {
			s.log.Debug("socket.io client sent no CONNECT in time; closing")
			s.abort(reasonConnectTimeout)
		}
	})

	readReason, linger := s.readLoop(connectTimer)

	connectTimer.Stop()
	if linger {
		s.lingerClose(readReason)
	}
	s.abort(readReason)
	<-s.writerDone
	s.leaveAll()
	srv.unregister(s)
	if s.accepted {
		srv.connected.Add(-1)
		s.callOnDisconnect(s.closeReason())
	}
}
