package server

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/storage"
)

// socketFixture serves the REST API and the Socket.IO binding over one standalone manager with
// events-only sessions.
func socketFixture(t *testing.T, key string) (*fixture, *httptest.Server) {
	t.Helper()
	sockets := NewSockets(SocketOptions{SessionAPIKey: key})
	t.Cleanup(sockets.Close)
	f, mgr := newManagedFixture(t, Options{Socket: sockets.Handler()}, func(o *conversation.Options) {
		o.EventsOnly = true
		o.Emitter = sockets
	})
	sockets.SetManager(mgr)
	return f, f.ts
}

// dialSocket opens a websocket to /socket.io/ with query q and asks to connect; it returns the
// frames the server sends until (and including) the CONNECT answer.
func dialSocket(t *testing.T, ts *httptest.Server, q url.Values) (*websocket.Conn, []string) {
	t.Helper()
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?" + q.Encode()
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, open, err := c.ReadMessage()
	if err != nil || !strings.HasPrefix(string(open), `0{"sid":`) {
		t.Fatalf("open packet %q: %v", open, err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	var frames []string
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", frames, err)
		}
		frames = append(frames, string(msg))
		if strings.HasPrefix(string(msg), "40") || strings.HasPrefix(string(msg), "44") {
			return c, frames
		}
	}
}

func lastFrame(frames []string) string { return frames[len(frames)-1] }

func TestSocketRefusals(t *testing.T) {
	f, ts := socketFixture(t, "")
	f.saveSettings("sk-test")
	id := f.create(`{}`)
	cases := []struct {
		name string
		q    url.Values
		want string
	}{
		{"no conversation id", url.Values{"latest_event_id": {"-1"}}, `44{"message":"No conversation_id in query params"}`},
		{"unknown conversation", url.Values{"conversation_id": {"0123456789abcdef0123456789abcdef"}},
			`44{"message":"Conversation not found","data":{"msg_id":"CONVERSATION$NOT_FOUND"}}`},
		{"malformed id", url.Values{"conversation_id": {"../../etc"}},
			`44{"message":"Conversation not found","data":{"msg_id":"CONVERSATION$NOT_FOUND"}}`},
		{"unknown provider", url.Values{"conversation_id": {id}, "providers_set": {"github,sourcehut"}},
			`44{"message":"Unknown git provider \"sourcehut\" in providers_set"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, frames := dialSocket(t, ts, tc.q)
			if got := lastFrame(frames); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// The UI's query words: "undefined" latest id, "null" key, comma-joined providers.
	c, frames := dialSocket(t, ts, url.Values{"conversation_id": {id}, "latest_event_id": {"undefined"},
		"providers_set": {"github,gitlab"}, "session_api_key": {"null"}})
	if !strings.HasPrefix(lastFrame(frames), `40{"sid":`) {
		t.Errorf("connect with the UI's query: %q", frames)
	}
	// The agent's state arrives, replayed before the ack or live after it.
	for !strings.Contains(strings.Join(frames, "\n"), `"agent_state":"awaiting_user_input"`) {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("no agent state after %q: %v", frames, err)
		}
		frames = append(frames, string(msg))
	}
}

func TestSocketSessionKeyAndSettings(t *testing.T) {
	f, ts := socketFixture(t, "s3cret")
	// No settings: OpenHands' refusal with its msg_id.
	if err := f.store.CreateConversation(&storage.ConversationMetadata{ConversationID: "0123456789abcdef0123456789abcdef", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"conversation_id": {"0123456789abcdef0123456789abcdef"}, "session_api_key": {"s3cret"}}
	_, frames := dialSocket(t, ts, q)
	if got := lastFrame(frames); got != `44{"message":"Settings not found","data":{"msg_id":"CONFIGURATION$SETTINGS_NOT_FOUND"}}` {
		t.Errorf("no settings: %s", got)
	}
	f.saveSettings("sk-test")
	for _, key := range []string{"", "null", "wrong"} {
		q := url.Values{"conversation_id": {"0123456789abcdef0123456789abcdef"}}
		if key != "" {
			q.Set("session_api_key", key)
		}
		_, frames := dialSocket(t, ts, q)
		if got := lastFrame(frames); got != `44{"message":"invalid_session_api_key"}` {
			t.Errorf("key %q: %s", key, got)
		}
	}
	c, frames := dialSocket(t, ts, q)
	if !strings.HasPrefix(lastFrame(frames), `40{"sid":`) {
		t.Fatalf("right key: %q", frames)
	}
	// A refused client event is answered with an error payload, not dropped.
	c.WriteMessage(websocket.TextMessage, []byte(`42["oh_user_action",{"id":5,"action":"message","args":{"content":"x"}}]`))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(msg), `"error":true`) {
			if !strings.Contains(string(msg), "must not carry an id") {
				t.Errorf("refusal: %s", msg)
			}
			break
		}
	}
}
