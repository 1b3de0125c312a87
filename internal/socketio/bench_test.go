package socketio

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// sampleEvent is about the size of a typical OpenHands event.
var sampleEvent = json.RawMessage(`{"id":1234,"timestamp":"2025-08-01T12:00:00.000000","source":"agent","message":"Running command: ls -la","action":"run","args":{"command":"ls -la","is_input":false,"thought":"Let me look at the files in the workspace first.","blocking":false,"is_static":false,"cwd":null,"hidden":false,"confirmation_state":"confirmed","security_risk":-1}}`)

func BenchmarkPrepare(b *testing.B) {
	srv := New(Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(sampleEvent)))
	for b.Loop() {
		srv.Prepare("oh_event", sampleEvent)
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	msg := []byte(`2["oh_user_action",{"action":"message","args":{"content":"Fix the failing test in the parser package","image_urls":[]}}]`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := decodePacket(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// benchServer is a server with n connected gorilla clients spread over rooms; every client counts
// the event messages it reads.
type benchServer struct {
	srv      *Server
	http     *httptest.Server
	received atomic.Int64
	clients  []*websocket.Conn
	wg       sync.WaitGroup
}

func newBenchServer(b *testing.B, clients, rooms int) *benchServer {
	b.Helper()
	bs := &benchServer{}
	bs.srv = New(Options{
		MaxQueuedBytes: 1 << 30, // the benchmark sends as fast as it can; nobody is too slow here
		Connect: func(s *Socket) error {
			s.Join(s.Query().Get("room"))
			return nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", bs.srv)
	bs.http = httptest.NewServer(mux)
	url := "ws" + strings.TrimPrefix(bs.http.URL, "http") + "/socket.io/?EIO=4&transport=websocket&room=room"
	for i := range clients {
		conn, resp, err := websocket.DefaultDialer.Dial(fmt.Sprint(url, i%rooms), nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if _, _, err := conn.ReadMessage(); err != nil { // open
			b.Fatal(err)
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			b.Fatal(err)
		}
		if _, m, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "40{") {
			b.Fatalf("CONNECT: %q %v", m, err)
		}
		bs.clients = append(bs.clients, conn)
		bs.wg.Add(1)
		go func() {
			defer bs.wg.Done()
			var first [1]byte
			for {
				_, r, err := conn.NextReader()
				if err != nil {
					return
				}
				if n, _ := r.Read(first[:]); n == 1 && first[0] == engineMessage {
					bs.received.Add(1)
				}
				_, _ = io.Copy(io.Discard, r)
			}
		}()
	}
	b.Cleanup(func() {
		bs.srv.Close()
		for _, c := range bs.clients {
			c.Close()
		}
		bs.wg.Wait()
		bs.http.Close()
	})
	return bs
}

// waitReceived waits until the clients have read n event messages in all.
func (bs *benchServer) waitReceived(b *testing.B, n int64) {
	deadline := time.Now().Add(time.Minute)
	for bs.received.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("clients received %d of %d messages", bs.received.Load(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkBroadcast measures fan-out through real loopback websockets: each op prepares one event
// and broadcasts it to one room (rooms in turn), and the benchmark ends when every client has read
// every message. The clients run in the same process and take their share of the CPU.
func BenchmarkBroadcast(b *testing.B) {
	for _, c := range []struct{ clients, rooms int }{{100, 10}, {1000, 100}, {1000, 10}} {
		b.Run(fmt.Sprintf("clients=%d/rooms=%d", c.clients, c.rooms), func(b *testing.B) {
			bs := newBenchServer(b, c.clients, c.rooms)
			perRoom := int64(c.clients / c.rooms)
			names := make([]string, c.rooms)
			for i := range names {
				names[i] = fmt.Sprint("room", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			i := 0
			for b.Loop() {
				bs.srv.Broadcast(names[i%c.rooms], bs.srv.Prepare("oh_event", sampleEvent))
				i++
			}
			bs.waitReceived(b, int64(i)*perRoom)
			elapsed := time.Since(start)
			b.ReportMetric(float64(int64(i)*perRoom)/elapsed.Seconds(), "deliveries/s")
			if n := bs.srv.NumSockets(); n != c.clients {
				b.Fatalf("%d of %d sockets left", n, c.clients)
			}
		})
	}
}

// BenchmarkRoomPattern is the acceptance load: 1000 clients in 100 rooms, each room receiving an
// event every 20 ms (50,000 deliveries a second), for b.N rounds of 20 ms. It reports how long it
// takes, on average and at worst, until every client has read the round's event. On a loopback
// interface with the clients in the same process, most of the time is the kernel's: each delivery
// is one write on the server and one read on the client.
func BenchmarkRoomPattern(b *testing.B) {
	const clients, rooms = 1000, 100
	bs := newBenchServer(b, clients, rooms)
	names := make([]string, rooms)
	for i := range names {
		names[i] = fmt.Sprint("room", i)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	b.ReportAllocs()
	b.ResetTimer()
	var total, worst time.Duration
	rounds := 0
	for b.Loop() {
		<-tick.C
		sent := time.Now()
		for _, r := range names {
			bs.srv.Broadcast(r, bs.srv.Prepare("oh_event", sampleEvent))
		}
		rounds++
		bs.waitReceived(b, int64(rounds)*clients)
		d := time.Since(sent)
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(rounds)/1000, "avg-round-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-round-ms")
}

func BenchmarkEmit(b *testing.B) {
	bs := newBenchServer(b, 1, 1)
	var sock *Socket
	bs.srv.mu.Lock()
	for s := range bs.srv.conns {
		sock = s
	}
	bs.srv.mu.Unlock()
	arg := map[string]any{"id": 1, "message": "Running command: ls -la", "args": map[string]any{"command": "ls -la"}}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if err := sock.Emit("oh_event", arg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	bs.waitReceived(b, int64(n))
}
