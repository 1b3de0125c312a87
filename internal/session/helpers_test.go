package session_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/session/sessiontest"
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

// The socket-side recorder and payload parser are shared with the other session tests.
type (
	recorder = sessiontest.Recorder
	payload  = sessiontest.Payload
	delivery = sessiontest.Delivery
)

var (
	newRecorder = sessiontest.NewRecorder
	parse       = sessiontest.Parse
	waitFor     = sessiontest.WaitFor
)

// newStore opens a store in a temporary directory.
func newStore(t testing.TB) *storage.Store {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// newConversation stores the metadata of a new conversation, titled as nobody named it.
func newConversation(t testing.TB, store *storage.Store, id string) {
	t.Helper()
	title := session.DefaultTitle(id)
	if err := store.CreateConversation(&storage.ConversationMetadata{ConversationID: id, Title: &title,
		CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// newSession makes a session of a new conversation; it is closed when the test ends.
func newSession(t testing.TB, store *storage.Store, id string, edit func(*session.Options)) *session.Session {
	t.Helper()
	newConversation(t, store, id)
	opts := session.Options{ConversationID: id, Config: config.Default(), Store: store, EventsOnly: true}
	if edit != nil {
		edit(&opts)
	}
	s, err := session.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close the session: %v", err)
		}
	})
	return s
}

// appendEvent appends ev to the session's stream.
func appendEvent(t testing.TB, s *session.Session, ev *events.Event, source events.Source) int64 {
	t.Helper()
	id, err := s.Stream().Append(context.Background(), ev, source)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// storedEvents reads every event of the session's stream.
func storedEvents(t testing.TB, s *session.Session) []*events.Event {
	t.Helper()
	var out []*events.Event
	for id := int64(0); id <= s.Stream().LatestID(); id++ {
		ev, err := s.Stream().Get(id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// sandboxBinary is the static gohands binary a local sandbox runs as its action server.
func sandboxBinary(t testing.TB) string { return testbin.Static(t) }

func strp(s string) *string { return &s }
