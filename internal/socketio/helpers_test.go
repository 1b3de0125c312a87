package socketio

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logBuffer collects a server's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testServer is a Server mounted at /socket.io/ on a loopback HTTP server.
type testServer struct {
	*Server
	http *httptest.Server
	logs *logBuffer
	url  string // ws://127.0.0.1:port/socket.io/

	mu          sync.Mutex
	disconnects map[string]string // socket id -> reason
	disconnectC chan string       // socket ids, as OnDisconnect is called
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	ts := &testServer{logs: &logBuffer{}, disconnects: map[string]string{}, disconnectC: make(chan string, 1024)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	onDisconnect := opts.OnDisconnect
	opts.OnDisconnect = func(s *Socket, reason string) {
		ts.mu.Lock()
		if prev, ok := ts.disconnects[s.ID()]; ok {
			t.Errorf("OnDisconnect called twice for %s (%q, then %q)", s.ID(), prev, reason)
		}
		ts.disconnects[s.ID()] = reason
		ts.mu.Unlock()
		if onDisconnect != nil {
			onDisconnect(s, reason)
		}
		ts.disconnectC <- s.ID()
	}
	ts.Server = New(opts)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", ts.Server)
	ts.http = httptest.NewServer(mux)
	ts.url = "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/socket.io/"
	t.Cleanup(func() {
		ts.Server.Close()
		ts.http.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// waitDisconnect waits for OnDisconnect of the socket and returns its reason.
func (ts *testServer) waitDisconnect(t *testing.T, id string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ts.mu.Lock()
		reason, ok := ts.disconnects[id]
		ts.mu.Unlock()
		if ok {
			return reason
		}
		select {
		case <-ts.disconnectC:
		case <-deadline:
			t.Fatalf("no OnDisconnect for socket %s", id)
		}
	}
}

// eventually polls cond until it holds or 10 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testClient speaks the protocols by hand over a gorilla websocket.
type testClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, ts *testServer, query string) *testClient {
	t.Helper()
	u := ts.url + "?EIO=4&transport=websocket"
	if query != "" {
		u += "&" + query
	}
	conn, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"http://elsewhere.example"}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	resp.Body.Close()
	c := &testClient{t: t, conn: conn}
	t.Cleanup(func() { conn.Close() })
	return c
}

// read returns the next text message, failing the test after 5 s.
func (c *testClient) read() string {
	c.t.Helper()
	s, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return s
}

func (c *testClient) tryRead(timeout time.Duration) (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	mt, b, err := c.conn.ReadMessage()
	if err != nil {
		return "", err
	}
	if mt != websocket.TextMessage {
		c.t.Fatalf("server sent a frame of type %d", mt)
	}
	return string(b), nil
}

// readPacket returns the next message that is not a ping, answering pings.
func (c *testClient) readPacket() string {
	c.t.Helper()
	for {
		s := c.read()
		if s == "2" {
			c.send("3")
			continue
		}
		return s
	}
}

func (c *testClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// openPacket is Engine.IO's handshake payload.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func (c *testClient) readOpen() openPacket {
	c.t.Helper()
	s := c.read()
	if !strings.HasPrefix(s, "0{") {
		c.t.Fatalf("first packet %q is not an open packet", s)
	}
	var o openPacket
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		c.t.Fatalf("open packet %q: %v", s, err)
	}
	return o
}

// connect does the handshake and CONNECT, and returns the socket id and what the server sent
// before its CONNECT acknowledgement.
func (c *testClient) connect(auth string) (sid string, before []string) {
	c.t.Helper()
	c.readOpen()
	c.send("40" + auth)
	for {
		s := c.readPacket()
		if strings.HasPrefix(s, "40{") {
			var ack struct {
				SID string `json:"sid"`
			}
			if err := json.Unmarshal([]byte(s[2:]), &ack); err != nil || ack.SID == "" {
				c.t.Fatalf("bad CONNECT acknowledgement %q", s)
			}
			return ack.SID, before
		}
		before = append(before, s)
	}
}

// expectClosed reads until the connection ends and returns the messages read before; it fails
// when the connection is still open after 5 s. Then it closes the connection, as browsers and
// node's ws do after the closing handshake.
func (c *testClient) expectClosed() (msgs []string, err error) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = c.conn.SetReadDeadline(deadline)
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.t.Fatalf("connection still open after 5 s (read %q)", msgs)
			}
			c.conn.Close()
			return msgs, err
		}
		msgs = append(msgs, string(b))
	}
}
