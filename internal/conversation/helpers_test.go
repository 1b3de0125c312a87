package conversation_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
	"github.com/gohands/gohands/internal/testbin"
)

func TestMain(m *testing.M) {
	// The llm package's provider SDKs start an opencensus worker at init; it is not ours.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"), goleak.Cleanup(func(code int) {
		testbin.Cleanup()
		os.Exit(code)
	}))
}

// recorder is the socket side as a session sees it (the session.Emitter boundary): it keeps, for
// each connection, every payload it would have received, in order, and what each room was sent.
type recorder struct {
	// mu guards the maps below.
	mu          sync.Mutex
	members     map[string]map[string]bool // room → connection ids
	conns       map[string][]delivery      // connection → what it received
	rooms       map[string][][]byte        // room → what was sent to the room as a whole
	disconnects map[string]int             // room → DisconnectRoom calls
}

// delivery is one payload a connection received: by replay (EmitTo) or live (EmitRoom).
type delivery struct {
	payload []byte
	live    bool
}

var _ session.Emitter = (*recorder)(nil)

func newRecorder() *recorder {
	return &recorder{members: map[string]map[string]bool{}, conns: map[string][]delivery{},
		rooms: map[string][][]byte{}, disconnects: map[string]int{}}
}

func (r *recorder) EmitTo(connID string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns[connID] = append(r.conns[connID], delivery{payload: slices.Clone(payload)})
}

func (r *recorder) EmitRoom(room string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := slices.Clone(payload)
	r.rooms[room] = append(r.rooms[room], p)
	for c := range r.members[room] {
		r.conns[c] = append(r.conns[c], delivery{payload: p, live: true})
	}
}

func (r *recorder) JoinRoom(connID, room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members[room] == nil {
		r.members[room] = map[string]bool{}
	}
	r.members[room][connID] = true
}

func (r *recorder) DisconnectRoom(room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disconnects[room]++
	delete(r.members, room)
}

// received is a copy of what a connection received.
func (r *recorder) received(connID string) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.conns[connID])
}

// room is a copy of what was sent to a room.
func (r *recorder) room(id string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rooms[id])
}

// payload is the part of an oh_event payload the tests look at.
type payload struct {
	// ID is the event id, -1 for payloads that are not events; StatusID the id of a status.
	ID           int64           `json:"-"`
	StatusID     string          `json:"-"`
	RawID        json.RawMessage `json:"id"`
	Source       string          `json:"source"`
	Action       string          `json:"action"`
	Observation  string          `json:"observation"`
	Message      string          `json:"message"`
	StatusUpdate bool            `json:"status_update"`
	Type         string          `json:"type"`
	Error        bool            `json:"error"`
	Title        string          `json:"conversation_title"`
	Args         struct {
		Content string `json:"content"`
	} `json:"args"`
	Extras struct {
		AgentState string `json:"agent_state"`
		Reason     string `json:"reason"`
	} `json:"extras"`
}

func parse(t testing.TB, data []byte) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("payload %s: %v", data, err)
	}
	p.ID = -1
	if len(p.RawID) > 0 && p.RawID[0] == '"' {
		json.Unmarshal(p.RawID, &p.StatusID)
	} else if len(p.RawID) > 0 {
		if err := json.Unmarshal(p.RawID, &p.ID); err != nil {
			t.Fatalf("payload %s: id: %v", data, err)
		}
	}
	return p
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// disconnected is how many times a room was disconnected.
func (r *recorder) disconnected(room string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.disconnects[room]
}

// fixture is a standalone manager over a store in a temporary directory, with a recorder for its
// socket side.
type fixture struct {
	t     *testing.T
	cfg   *config.Config
	store *storage.Store
	rec   *recorder
	m     *conversation.Standalone
}

// newFixture starts a manager; edit adjusts its options first. The manager is closed when the
// test ends.
func newFixture(t *testing.T, edit func(*conversation.Options)) *fixture {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, cfg: config.Default(), store: store, rec: newRecorder()}
	opts := conversation.Options{Config: f.cfg, Store: store, Emitter: f.rec, EventsOnly: true}
	if edit != nil {
		edit(&opts)
	}
	f.m = conversation.NewStandalone(opts)
	f.m.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.m.Close(ctx); err != nil {
			t.Errorf("close the manager: %v", err)
		}
	})
	return f
}

// saveSettings stores settings for an OpenAI-compatible LLM at baseURL ("" for the default).
func (f *fixture) saveSettings(baseURL string) {
	f.t.Helper()
	st := storage.NewSettings()
	st.LLMModel, st.LLMAPIKey = strp("openai/gpt-4o"), strp("sk-test")
	if baseURL != "" {
		st.LLMBaseURL = strp(baseURL)
	}
	if err := f.store.SaveSettings(st); err != nil {
		f.t.Fatal(err)
	}
}

// newConversation stores a new conversation.
func (f *fixture) newConversation(id string) {
	f.t.Helper()
	title := session.DefaultTitle(id)
	if err := f.store.CreateConversation(&storage.ConversationMetadata{ConversationID: id, Title: &title,
		CreatedAt: time.Now().UTC()}); err != nil {
		f.t.Fatal(err)
	}
}

// conn is a socket connection as the manager sees it.
type conn string

func (c conn) ID() string { return string(c) }

// sandboxBinary is the static gohands binary a local sandbox runs as its action server.
func sandboxBinary(t testing.TB) string { return testbin.Static(t) }

func strp(s string) *string { return &s }
