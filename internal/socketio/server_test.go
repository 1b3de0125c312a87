package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestHandshake(t *testing.T) {
	ts := newTestServer(t, Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 1200 * time.Millisecond, MaxPayload: 12345})
	c := dial(t, ts, "")
	raw := c.read()
	re := regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":1500,"pingTimeout":1200,"maxPayload":12345\}$`)
	if !re.MatchString(raw) {
		t.Fatalf("open packet %s does not match %s", raw, re)
	}

	// The defaults.
	ts2 := newTestServer(t, Options{})
	o := dial(t, ts2, "").readOpen()
	if o.PingInterval != 25000 || o.PingTimeout != 20000 || o.MaxPayload != 4194304 || o.Upgrades == nil || len(o.Upgrades) != 0 {
		t.Fatalf("default open packet %+v", o)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	ts := newTestServer(t, Options{})
	base := ts.http.URL + "/socket.io/"
	tests := []struct {
		name, query, method string
		want                string
	}{
		{"polling", "EIO=4&transport=polling&t=N8hyd6w", "GET", `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "EIO=4", "GET", `{"code":0,"message":"Transport unknown"}`},
		{"upgrade from polling", "EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC", "GET", `{"code":1,"message":"Session ID unknown"}`},
		{"engine.io v3", "EIO=3&transport=websocket", "GET", `{"code":5,"message":"Unsupported protocol version"}`},
		{"no version", "transport=websocket", "GET", `{"code":5,"message":"Unsupported protocol version"}`},
		{"post", "EIO=4&transport=websocket", "POST", `{"code":2,"message":"Bad handshake method"}`},
		{"not an upgrade", "EIO=4&transport=websocket", "GET", `{"code":3,"message":"Bad request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+"?"+tt.query, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || string(body) != tt.want ||
				resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q (%s), want 400 %s", resp.StatusCode, body, resp.Header.Get("Content-Type"), tt.want)
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	ts := newTestServer(t, Options{PingInterval: 50 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	c := dial(t, ts, "")
	sid, _ := c.connect("")
	for range 3 {
		start := time.Now()
		if p := c.read(); p != "2" {
			t.Fatalf("got %q, want ping", p)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("ping after %v", d)
		}
		c.send("3")
	}
	// Stop answering: the server gives up after the ping timeout.
	start := time.Now()
	msgs, _ := c.expectClosed()
	if len(msgs) != 1 || msgs[0] != "2" {
		t.Fatalf("before the close: %q, want one ping", msgs)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the ping timeout", d)
	}
	if r := ts.waitDisconnect(t, sid); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
}

func TestConnectRefused(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"error", errors.New("not allowed"), `44{"message":"not allowed"}`},
		{"connect error with data", &ConnectError{Message: "auth failed", Data: map[string]any{"msg_id": "STATUS$ERROR", "code": 401}},
			`44{"message":"auth failed","data":{"code":401,"msg_id":"STATUS$ERROR"}}`},
		{"wrapped connect error", fmt.Errorf("check key: %w", &ConnectError{Message: "bad key", Data: "x"}), `44{"message":"bad key","data":"x"}`},
		{"panic", nil, `44{"message":"internal error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Options{Connect: func(s *Socket) error {
				if tt.err == nil {
					panic("handler bug")
				}
				s.EmitRaw("before", json.RawMessage(`1`))
				return tt.err
			}})
			c := dial(t, ts, "")
			c.readOpen()
			c.send("40")
			msgs, err := c.expectClosed()
			want := []string{tt.want}
			if tt.err != nil {
				want = []string{`42["before",1]`, tt.want}
			}
			if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got %q, want %q", msgs, want)
			}
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("connection ended with %v, want a normal close", err)
			}
			if ts.NumSockets() != 0 {
				t.Fatalf("NumSockets = %d", ts.NumSockets())
			}
			if tt.err == nil && !strings.Contains(ts.logs.String(), "handler bug") {
				t.Fatalf("the panic is not logged:\n%s", ts.logs)
			}
			// OnDisconnect is only for sockets that were connected.
			ts.Close()
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if len(ts.disconnects) != 0 {
				t.Fatalf("OnDisconnect called for a refused socket: %v", ts.disconnects)
			}
		})
	}
}

func TestConnectSeesHandshake(t *testing.T) {
	type seen struct {
		query              string
		auth               string
		header, remoteAddr string
		connected          bool
	}
	got := make(chan seen, 1)
	var sock *Socket
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		sock = s
		got <- seen{s.Query().Encode(), string(s.Auth()), s.Header().Get("Origin"), s.RemoteAddr(), s.Connected()}
		return nil
	}})
	c := dial(t, ts, "conversation_id=abc&latest_event_id=undefined&providers_set=github%2Cgitlab&session_api_key=null")
	sid, _ := c.connect(`{"token":"123"}`)
	g := <-got
	if g.query != "EIO=4&conversation_id=abc&latest_event_id=undefined&providers_set=github%2Cgitlab&session_api_key=null&transport=websocket" {
		t.Fatalf("query %q", g.query)
	}
	if g.auth != `{"token":"123"}` || g.header != "http://elsewhere.example" || !strings.HasPrefix(g.remoteAddr, "127.0.0.1:") || g.connected {
		t.Fatalf("seen %+v", g)
	}
	if sock.ID() != sid || !sock.Connected() || ts.NumSockets() != 1 {
		t.Fatalf("ID %q (client has %q), Connected %v, NumSockets %d", sock.ID(), sid, sock.Connected(), ts.NumSockets())
	}
	c.send("41")
	if r := ts.waitDisconnect(t, sid); r != ReasonClientDisconnect {
		t.Fatalf("reason %q", r)
	}
	select {
	case <-sock.Context().Done():
	default:
		t.Fatal("the socket's context is not cancelled")
	}
	if sock.Connected() || ts.NumSockets() != 0 {
		t.Fatalf("after disconnect: Connected %v, NumSockets %d", sock.Connected(), ts.NumSockets())
	}
}

func TestEmitBeforeAck(t *testing.T) {
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		s.Join("conversation")
		if err := s.Emit("oh_event", map[string]any{"id": 1, "html": "<b>&</b>"}); err != nil {
			return err
		}
		s.srv.Broadcast("conversation", s.srv.Prepare("oh_event", json.RawMessage(`{"id":2}`)))
		s.EmitRaw("oh_event", json.RawMessage(`{"id":3}`))
		return nil
	}})
	c := dial(t, ts, "")
	_, before := c.connect("")
	want := []string{`42["oh_event",{"html":"<b>&</b>","id":1}]`, `42["oh_event",{"id":2}]`, `42["oh_event",{"id":3}]`}
	if strings.Join(before, "\n") != strings.Join(want, "\n") {
		t.Fatalf("before the acknowledgement: %q, want %q", before, want)
	}
}

func TestEventsAndAcks(t *testing.T) {
	type event struct {
		name string
		args []string
	}
	events := make(chan event, 10)
	ts := newTestServer(t, Options{OnEvent: func(s *Socket, name string, args []json.RawMessage) {
		e := event{name: name}
		for _, a := range args {
			e.args = append(e.args, string(a))
		}
		events <- e
		if name == "boom" {
			panic("handler bug")
		}
	}})
	c := dial(t, ts, "")
	c.connect("")
	c.send(`42["oh_user_action",{"action":"message","args":{"content":"hi"}}]`)
	c.send(`4212["with_ack","a",2]`)
	if p := c.readPacket(); p != `4312[]` {
		t.Fatalf("got %q, want the acknowledgement", p)
	}
	c.send(`423["boom"]`)
	if p := c.readPacket(); p != `433[]` {
		t.Fatalf("after a handler panic got %q, want the acknowledgement", p)
	}
	want := []event{
		{"oh_user_action", []string{`{"action":"message","args":{"content":"hi"}}`}},
		{"with_ack", []string{`"a"`, `2`}},
		{"boom", nil},
	}
	for _, w := range want {
		got := <-events
		if got.name != w.name || strings.Join(got.args, "|") != strings.Join(w.args, "|") {
			t.Fatalf("OnEvent(%q, %q), want (%q, %q)", got.name, got.args, w.name, w.args)
		}
	}
	// Unknown namespaces: refused, the connection stays.
	c.send(`40/admin,`)
	if p := c.readPacket(); p != `44/admin,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", p)
	}
	c.send(`42/admin,["ignored"]`)
	c.send(`2`) // a client ping is answered
	if p := c.read(); p != "3" {
		t.Fatalf("got %q, want pong", p)
	}
	select {
	case e := <-events:
		t.Fatalf("event of another namespace delivered: %+v", e)
	default:
	}
}

func TestClientEndsConnection(t *testing.T) {
	tests := []struct {
		name string
		end  func(c *testClient)
		want string
	}{
		{"disconnect packet", func(c *testClient) { c.send("41") }, ReasonClientDisconnect},
		{"engine.io close", func(c *testClient) { c.send("1") }, ReasonTransportClose},
		{"websocket close", func(c *testClient) {
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}, ReasonTransportClose},
		{"tcp close", func(c *testClient) { c.conn.NetConn().Close() }, ReasonTransportClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Options{})
			c := dial(t, ts, "")
			sid, _ := c.connect("")
			tt.end(c)
			if r := ts.waitDisconnect(t, sid); r != tt.want {
				t.Fatalf("reason %q, want %q", r, tt.want)
			}
		})
	}
}

func TestBadClientsAreClosed(t *testing.T) {
	tests := []struct {
		name    string
		send    func(c *testClient)
		log     string
		connect bool
	}{
		{"malformed packet", func(c *testClient) { c.send(`42{"not":"an array"}`) }, `packet="42{\"not\":\"an array\"}"`, true},
		{"reserved event", func(c *testClient) { c.send(`42["connect"]`) }, "reserved event name", true},
		{"unknown engine.io packet", func(c *testClient) { c.send(`9`) }, "unexpected engine.io packet type", true},
		{"empty message", func(c *testClient) { c.send(``) }, "empty engine.io packet", true},
		{"event before connect", func(c *testClient) { c.send(`42["x"]`) }, "EVENT before CONNECT", false},
		{"binary event", func(c *testClient) { c.send(`451-["upload",{"_placeholder":true,"num":0}]`) }, "binary packets are not supported", true},
		{"binary frame", func(c *testClient) {
			_ = c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		}, "binary frame received", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Options{})
			c := dial(t, ts, "")
			sid := ""
			if tt.connect {
				sid, _ = c.connect("")
			} else {
				c.readOpen()
			}
			tt.send(c)
			if _, err := c.expectClosed(); err == nil {
				t.Fatal("connection not closed")
			}
			if tt.connect {
				if r := ts.waitDisconnect(t, sid); r != ReasonParseError {
					t.Fatalf("reason %q", r)
				}
				if !strings.Contains(ts.logs.String(), "socket_id="+sid) {
					t.Fatalf("the warning does not name the socket:\n%s", ts.logs)
				}
			}
			eventually(t, "the warning is logged", func() bool { return strings.Contains(ts.logs.String(), tt.log) })
			if !strings.Contains(ts.logs.String(), "level=WARN") {
				t.Fatalf("no warning in:\n%s", ts.logs)
			}
		})
	}
}

func TestOversizedMessageCloses(t *testing.T) {
	ts := newTestServer(t, Options{MaxPayload: 1024})
	c := dial(t, ts, "")
	sid, _ := c.connect("")
	c.send(`42["ok","` + strings.Repeat("a", 1000) + `"]`) // 1012 bytes
	c.send(`42["big","` + strings.Repeat("a", 1100) + `"]`)
	_, err := c.expectClosed()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("connection ended with %v, want close 1009", err)
	}
	if r := ts.waitDisconnect(t, sid); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	if !strings.Contains(ts.logs.String(), "larger than the maximum payload") {
		t.Fatalf("not logged:\n%s", ts.logs)
	}
}

func TestConnectTimeout(t *testing.T) {
	ts := newTestServer(t, Options{ConnectTimeout: 100 * time.Millisecond})
	c := dial(t, ts, "")
	c.readOpen()
	c.send(`40/admin,`) // a refused namespace does not count
	start := time.Now()
	msgs, _ := c.expectClosed()
	if len(msgs) != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("got %q after %v", msgs, time.Since(start))
	}
}

func TestRooms(t *testing.T) {
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		if room := s.Query().Get("room"); room != "" {
			s.Join(room)
			s.Join(room) // twice is once
			s.Join("all")
		}
		return nil
	}})
	a, b, other := dial(t, ts, "room=r1"), dial(t, ts, "room=r1"), dial(t, ts, "room=r2")
	sidA, _ := a.connect("")
	sidB, _ := b.connect("")
	sidOther, _ := other.connect("")
	if n := ts.RoomSize("r1"); n != 2 {
		t.Fatalf("RoomSize(r1) = %d", n)
	}
	if n := ts.RoomSize("all"); n != 3 {
		t.Fatalf("RoomSize(all) = %d", n)
	}
	ts.Broadcast("r1", ts.Prepare("news", json.RawMessage(`{"n":1}`)))
	ts.Broadcast("nobody", ts.Prepare("news", json.RawMessage(`{"n":0}`)))
	ts.Broadcast("all", ts.Prepare("news", json.RawMessage(`{"n":2}`)))
	for _, c := range []*testClient{a, b} {
		if p := c.readPacket(); p != `42["news",{"n":1}]` {
			t.Fatalf("got %q", p)
		}
	}
	for _, c := range []*testClient{a, b, other} {
		if p := c.readPacket(); p != `42["news",{"n":2}]` {
			t.Fatalf("got %q", p)
		}
	}

	// DisconnectRoom: DISCONNECT, then a clean close; the members leave their rooms at once.
	ts.DisconnectRoom("r1")
	if n, all := ts.RoomSize("r1"), ts.RoomSize("all"); n != 0 || all != 1 {
		t.Fatalf("after DisconnectRoom: RoomSize(r1) = %d, RoomSize(all) = %d", n, all)
	}
	for _, c := range []*testClient{a, b} {
		msgs, err := c.expectClosed()
		if len(msgs) != 1 || msgs[0] != "41" || !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("got %q then %v, want 41 then a normal close", msgs, err)
		}
	}
	for _, sid := range []string{sidA, sidB} {
		if r := ts.waitDisconnect(t, sid); r != ReasonServerDisconnect {
			t.Fatalf("reason %q", r)
		}
	}
	eventually(t, "one socket is left", func() bool { return ts.NumSockets() == 1 })

	// The other socket leaves its rooms when it closes.
	other.conn.Close()
	ts.waitDisconnect(t, sidOther)
	if n := ts.RoomSize("all"); n != 0 {
		t.Fatalf("RoomSize(all) = %d after the last member left", n)
	}
	ts.roomsMu.RLock()
	left := len(ts.rooms)
	ts.roomsMu.RUnlock()
	if left != 0 {
		t.Fatalf("%d empty rooms kept", left)
	}
}

func TestLeave(t *testing.T) {
	var sock *Socket
	ts := newTestServer(t, Options{Connect: func(s *Socket) error { sock = s; s.Join("r"); return nil }})
	c := dial(t, ts, "")
	c.connect("")
	sock.Leave("r")
	sock.Leave("r")
	ts.Broadcast("r", ts.Prepare("x", nil))
	sock.EmitRaw("direct", nil)
	if p := c.readPacket(); p != `42["direct"]` {
		t.Fatalf("got %q: the broadcast reached a socket that left", p)
	}
}

// Frames sent directly and by broadcast reach the socket in the order of the calls.
func TestOrdering(t *testing.T) {
	var sock *Socket
	ts := newTestServer(t, Options{Connect: func(s *Socket) error { sock = s; s.Join("r"); return nil }})
	c := dial(t, ts, "")
	c.connect("")
	const n = 2000
	go func() {
		for i := range n {
			if i%3 == 0 {
				sock.EmitRaw("e", json.RawMessage(fmt.Sprint(i)))
			} else {
				ts.Broadcast("r", ts.Prepare("e", json.RawMessage(fmt.Sprint(i))))
			}
		}
	}()
	for i := range n {
		if p, want := c.readPacket(), fmt.Sprintf(`42["e",%d]`, i); p != want {
			t.Fatalf("got %q, want %q", p, want)
		}
	}
}

// Frames larger than what the kernel takes at once are split between a direct write and the
// writer goroutine; a client that starts reading late still gets every frame whole and in order.
func TestPartialWritesKeepOrder(t *testing.T) {
	var sock *Socket
	ts := newTestServer(t, Options{Connect: func(s *Socket) error { sock = s; s.Join("r"); return nil }})
	c := dial(t, ts, "")
	c.connect("")
	const n = 200
	body := strings.Repeat("y", 100<<10)
	for i := range n { // 20 MB while the client reads nothing: the socket buffers fill up
		f := ts.Prepare("e", json.RawMessage(fmt.Sprintf(`"%d %s"`, i, body)))
		if i%2 == 0 {
			ts.Broadcast("r", f)
		} else {
			sock.Send(f)
		}
	}
	for i := range n {
		want := fmt.Sprintf(`42["e","%d %s"]`, i, body)
		if p := c.readPacket(); p != want {
			t.Fatalf("frame %d: got %d bytes starting %.40q", i, len(p), p)
		}
	}
}

func TestSlowClientIsDisconnected(t *testing.T) {
	var (
		mu   sync.Mutex
		sock *Socket
	)
	ts := newTestServer(t, Options{MaxQueuedBytes: 256 << 10, Connect: func(s *Socket) error {
		mu.Lock()
		sock = s
		mu.Unlock()
		s.Join("r")
		return nil
	}})
	c := dial(t, ts, "")
	sid, _ := c.connect("")
	mu.Lock()
	s := sock
	mu.Unlock()
	// The client reads nothing more; the kernel's buffers fill, then the queue.
	f := ts.Prepare("flood", json.RawMessage(`"`+strings.Repeat("x", 8<<10)+`"`))
	start := time.Now()
	for s.Context().Err() == nil {
		ts.Broadcast("r", f)
		if time.Since(start) > 20*time.Second {
			t.Fatal("the slow client was never disconnected")
		}
		time.Sleep(10 * time.Microsecond)
	}
	if r := ts.waitDisconnect(t, sid); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	if !strings.Contains(ts.logs.String(), "client too slow") || !strings.Contains(ts.logs.String(), "socket_id="+sid) {
		t.Fatalf("not logged:\n%s", ts.logs)
	}
	if ts.RoomSize("r") != 0 {
		t.Fatal("the slow client is still in its room")
	}
}

func TestServerClose(t *testing.T) {
	ts := newTestServer(t, Options{})
	var sids []string
	var clients []*testClient
	for range 5 {
		c := dial(t, ts, "")
		sid, _ := c.connect("")
		sids = append(sids, sid)
		clients = append(clients, c)
	}
	idle := dial(t, ts, "") // never connects
	idle.readOpen()
	ts.Close()
	for _, c := range append(clients, idle) {
		if _, err := c.expectClosed(); err == nil {
			t.Fatal("connection not closed")
		}
	}
	for _, sid := range sids {
		if r := ts.waitDisconnect(t, sid); r != ReasonServerShutdown {
			t.Fatalf("reason %q", r)
		}
	}
	resp, err := http.Get(ts.http.URL + "/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest { // not an upgrade: refused before anything else
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, _, err := websocket.DefaultDialer.Dial(ts.url+"?EIO=4&transport=websocket", nil); err == nil {
		t.Fatal("a closed server accepted a connection")
	}
}

// Many clients connect, join, receive broadcasts and leave at once, under the race detector.
func TestConcurrentChurn(t *testing.T) {
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		s.Join(s.Query().Get("room"))
		return nil
	}, OnEvent: func(s *Socket, name string, args []json.RawMessage) {
		s.Leave(s.Query().Get("room"))
		s.Join("late")
	}})
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		f := ts.Prepare("tick", json.RawMessage(`1`))
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := range 4 {
				ts.Broadcast(fmt.Sprint("room", i), f)
			}
			ts.Broadcast("late", f)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, ts, fmt.Sprint("room=room", i%4))
			c.connect("")
			c.readPacket()
			c.send(`42["move"]`)
			c.readPacket()
			if i%2 == 0 {
				c.send("41")
			} else {
				c.conn.NetConn().Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	eventually(t, "every socket is gone", func() bool { return ts.NumSockets() == 0 })
	eventually(t, "every room is gone", func() bool {
		ts.roomsMu.RLock()
		defer ts.roomsMu.RUnlock()
		return len(ts.rooms) == 0
	})
}

func TestDisconnectInConnect(t *testing.T) {
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		s.EmitRaw("bye", nil)
		s.Disconnect()
		if err := s.Emit("after", 1); err != nil {
			return err
		}
		return nil
	}})
	c := dial(t, ts, "")
	c.readOpen()
	c.send("40")
	msgs, err := c.expectClosed()
	if strings.Join(msgs, " ") != `42["bye"] 41` || !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("got %q then %v", msgs, err)
	}
	if ts.NumSockets() != 0 {
		t.Fatalf("NumSockets = %d", ts.NumSockets())
	}
}

func TestEmitEncodingError(t *testing.T) {
	errs := make(chan error, 1)
	ts := newTestServer(t, Options{Connect: func(s *Socket) error {
		errs <- s.Emit("bad", make(chan int))
		return nil
	}})
	c := dial(t, ts, "")
	if _, before := c.connect(""); len(before) != 0 {
		t.Fatalf("sent %q", before)
	}
	if err := <-errs; err == nil {
		t.Fatal("Emit of a channel did not fail")
	}
}
