package socketio

// End-to-end tests with the real socket.io-client (npm) that the OpenHands web UI uses. The node
// scripts are in testdata/; the packages are pinned in test/node/package.json.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const nodeHelp = "run `npm ci --prefix test/node` at the repository root (Node.js 18 or newer), " +
	"or set GOHANDS_SKIP_NODE=1 to skip the node tests"

// nodeModules returns the node binary and test/node/node_modules, failing the test when either is
// missing.
func nodeModules(t *testing.T) (node, modules string) {
	t.Helper()
	if os.Getenv("GOHANDS_SKIP_NODE") == "1" {
		t.Skip("GOHANDS_SKIP_NODE=1")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %s", nodeHelp)
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	modules = filepath.Join(dir, "test", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "socket.io-client", "package.json")); err != nil {
		t.Fatalf("socket.io-client is not installed in %s: %s", modules, nodeHelp)
	}
	return node, modules
}

// nodeMsg is one line a node script prints.
type nodeMsg struct {
	Type      string            `json:"type"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Args      []json.RawMessage `json:"args"`
	Message   string            `json:"message"`
	Data      json.RawMessage   `json:"data"`
	Reason    string            `json:"reason"`
	Count     int               `json:"count"`
	Connected int               `json:"connected"`
	MS        int               `json:"ms"`
}

// nodeProc is a running node script.
type nodeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	enc    *json.Encoder
	out    *lineQueue
	stderr *logBuffer
	exited chan struct{}
}

func startNode(t *testing.T, script string, args ...string) *nodeProc {
	t.Helper()
	node, modules := nodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	p := &nodeProc{t: t, cmd: cmd, out: newLineQueue(), stderr: &logBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	p.enc = json.NewEncoder(stdin)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start node %s: %v", script, err)
	}
	go func() {
		_ = cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("node %s stderr:\n%s", script, p.stderr.String())
		}
	})
	return p
}

// next returns the script's next line, failing the test after timeout.
func (p *nodeProc) next(timeout time.Duration) nodeMsg {
	p.t.Helper()
	line, ok := p.out.next(timeout)
	if !ok {
		p.t.Fatalf("node printed nothing within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	var m nodeMsg
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		p.t.Fatalf("node printed %q: %v", line, err)
	}
	return m
}

// expect returns the next line and fails unless it has the given type.
func (p *nodeProc) expect(typ string) nodeMsg {
	p.t.Helper()
	m := p.next(10 * time.Second)
	if m.Type != typ {
		p.t.Fatalf("node said %+v, want %q", m, typ)
	}
	return m
}

// quiet fails if the script prints anything within d.
func (p *nodeProc) quiet(d time.Duration) {
	p.t.Helper()
	if line, ok := p.out.next(d); ok {
		p.t.Fatalf("node printed %s", line)
	}
}

func (p *nodeProc) send(cmd any) {
	p.t.Helper()
	if err := p.enc.Encode(cmd); err != nil {
		p.t.Fatalf("write to node: %v", err)
	}
}

// stop closes stdin (the scripts then disconnect and exit) and waits for the process.
func (p *nodeProc) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill ends the process with SIGKILL: its connections drop without closing frames.
func (p *nodeProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// lineQueue is an io.Writer that splits what is written into lines for next.
type lineQueue struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	more    chan struct{} // capacity 1
}

func newLineQueue() *lineQueue { return &lineQueue{more: make(chan struct{}, 1)} }

func (q *lineQueue) Write(b []byte) (int, error) {
	q.mu.Lock()
	q.partial = append(q.partial, b...)
	for {
		i := bytes.IndexByte(q.partial, '\n')
		if i < 0 {
			break
		}
		q.lines = append(q.lines, string(q.partial[:i]))
		q.partial = q.partial[i+1:]
	}
	q.mu.Unlock()
	select {
	case q.more <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (q *lineQueue) next(timeout time.Duration) (string, bool) {
	deadline := time.After(timeout)
	for {
		q.mu.Lock()
		if len(q.lines) > 0 {
			line := q.lines[0]
			q.lines = q.lines[1:]
			q.mu.Unlock()
			return line, true
		}
		q.mu.Unlock()
		select {
		case <-q.more:
		case <-deadline:
			return "", false
		}
	}
}

func nodeURL(ts *testServer) string { return ts.http.URL }

func TestNodeConnectWithFrontendQuery(t *testing.T) {
	seen := make(chan *Socket, 1)
	ts := newTestServer(t, Options{Connect: func(s *Socket) error { seen <- s; return nil }})
	p := startNode(t, "client.mjs", nodeURL(ts), `{"frontendQuery":true,"auth":{"token":"t1"}}`)
	m := p.expect("connect")
	s := <-seen
	q := s.Query()
	want := map[string]string{
		"conversation_id": "abc", "latest_event_id": "undefined", "providers_set": "github,gitlab",
		"session_api_key": "null", "EIO": "4", "transport": "websocket",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("query %s = %q, want %q (query %v)", k, got, v, q)
		}
	}
	if string(s.Auth()) != `{"token":"t1"}` {
		t.Errorf("auth %s", s.Auth())
	}
	if m.ID != s.ID() {
		t.Errorf("the client's socket.id is %q, the server's %q", m.ID, s.ID())
	}
}

func TestNodeEventsBeforeConnect(t *testing.T) {
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		s.Join("conversation")
		for i := range 3 {
			if err := s.Emit("oh_event", map[string]int{"id": i}); err != nil {
				return err
			}
		}
		s.srv.Broadcast("conversation", s.srv.Prepare("oh_event", json.RawMessage(`{"id":3}`)))
		return nil
	}})
	p := startNode(t, "client.mjs", nodeURL(ts))
	for i := range 4 {
		m := p.expect("event")
		if m.Name != "oh_event" || len(m.Args) != 1 || string(m.Args[0]) != fmt.Sprintf(`{"id":%d}`, i) {
			t.Fatalf("event %d: %+v", i, m)
		}
	}
	p.expect("connect")
}

func TestNodeConnectRefused(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		mu.Lock()
		attempts++
		mu.Unlock()
		return fmt.Errorf("check session: %w", &ConnectError{Message: "Session expired",
			Data: map[string]string{"msg_id": "STATUS$ERROR_SESSION_EXPIRED"}})
	}})
	p := startNode(t, "client.mjs", nodeURL(ts))
	m := p.expect("connect_error")
	if m.Message != "Session expired" || string(m.Data) != `{"msg_id":"STATUS$ERROR_SESSION_EXPIRED"}` {
		t.Fatalf("connect_error %+v", m)
	}
	// socket.io-client does not retry a refused connection (its first retry would come within
	// 1.5 s), and the server closes it.
	p.quiet(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if attempts != 1 {
		t.Fatalf("%d connection attempts", attempts)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.disconnects) != 0 {
		t.Fatalf("OnDisconnect called for a refused socket: %v", ts.disconnects)
	}
}

func TestNodeEmitAndAck(t *testing.T) {
	type event struct {
		name string
		args string
	}
	events := make(chan event, 10)
	ts := newTestServer(t, Options{OnEvent: func(s *Socket, name string, args []json.RawMessage) {
		raw := make([]string, len(args))
		for i, a := range args {
			raw[i] = string(a)
		}
		events <- event{name, "[" + strings.Join(raw, ",") + "]"}
	}})
	p := startNode(t, "client.mjs", nodeURL(ts))
	p.expect("connect")
	p.send(map[string]any{"emit": "oh_user_action", "args": []any{map[string]any{"action": "message", "args": map[string]any{"content": "<hi> & é"}}}})
	p.send(map[string]any{"emit": "with_ack", "args": []any{1, "two"}, "ack": true})
	if e := <-events; e.name != "oh_user_action" || e.args != `[{"action":"message","args":{"content":"<hi> & é"}}]` {
		t.Fatalf("OnEvent %+v", e)
	}
	if e := <-events; e.name != "with_ack" || e.args != `[1,"two"]` {
		t.Fatalf("OnEvent %+v", e)
	}
	if m := p.expect("ack"); m.Name != "with_ack" || len(m.Args) != 0 {
		t.Fatalf("ack %+v", m)
	}
}

func TestNodePayloadLimit(t *testing.T) {
	sizes := make(chan int, 2)
	ts := newTestServer(t, Options{OnEvent: func(s *Socket, name string, args []json.RawMessage) {
		sizes <- len(args[0]) - 2 // without the quotes
	}})
	p := startNode(t, "client.mjs", nodeURL(ts), `{"reconnection":false}`)
	id := p.expect("connect").ID
	p.send(map[string]any{"emitString": "big", "size": 3 << 20})
	select {
	case n := <-sizes:
		if n != 3<<20 {
			t.Fatalf("received %d bytes", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("3 MiB event not received")
	}
	p.send(map[string]any{"emitString": "too_big", "size": 5 << 20})
	if m := p.expect("disconnect"); m.Reason != "transport close" {
		t.Fatalf("disconnect %+v", m)
	}
	if r := ts.waitDisconnect(t, id); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	select {
	case n := <-sizes:
		t.Fatalf("a %d-byte event was accepted", n)
	default:
	}
}

func TestNodeServerDisconnect(t *testing.T) {
	seen := make(chan *Socket, 1)
	ts := newTestServer(t, Options{Connect: func(s *Socket) error { s.Join("conversation"); seen <- s; return nil }})
	p := startNode(t, "client.mjs", nodeURL(ts))
	p.expect("connect")
	s := <-seen
	s.EmitRaw("last", json.RawMessage(`"words"`))
	ts.DisconnectRoom("conversation")
	if m := p.expect("event"); m.Name != "last" {
		t.Fatalf("got %+v", m)
	}
	if m := p.expect("disconnect"); m.Reason != "io server disconnect" {
		t.Fatalf("disconnect %+v", m)
	}
	if r := ts.waitDisconnect(t, s.ID()); r != ReasonServerDisconnect {
		t.Fatalf("reason %q", r)
	}
	// No reconnection after a server-side disconnect.
	p.quiet(1500 * time.Millisecond)
}

// Clients that vanish without a word must not disturb the next ones: 300 clients are killed,
// 500 new ones connect at once, all of them quickly, and all receive a broadcast; the dead are
// cleaned up.
func TestNodeChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ts := newTestServer(t, Options{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  300 * time.Millisecond,
		Connect:      func(s *Socket) error { s.Join("all"); return nil },
	})
	doomed := startNode(t, "clients.mjs", nodeURL(ts), "300", "10000")
	if m := doomed.expect("connected"); m.Count != 300 {
		t.Fatalf("%+v", m)
	}
	eventually(t, "300 sockets are connected", func() bool { return ts.NumSockets() == 300 })
	doomed.kill()

	fresh := startNode(t, "clients.mjs", nodeURL(ts), "500", "10000")
	m := fresh.next(15 * time.Second)
	if m.Type != "connected" || m.Count != 500 {
		t.Fatalf("after the abrupt drop: %+v", m)
	}
	t.Logf("500 clients connected in %d ms", m.MS)
	eventually(t, "only the 500 live sockets are left", func() bool { return ts.NumSockets() == 500 })
	if n := ts.RoomSize("all"); n != 500 {
		t.Fatalf("RoomSize = %d", n)
	}
	ts.Broadcast("all", ts.Prepare("news", json.RawMessage(`{"n":1}`)))
	if m := fresh.expect("received"); m.Count != 500 {
		t.Fatalf("%+v", m)
	}
	fresh.stop()
	eventually(t, "every socket is gone", func() bool { return ts.NumSockets() == 0 })
	if logs := ts.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Fatalf("errors logged:\n%s", logs)
	}
}
