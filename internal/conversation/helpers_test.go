package conversation_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/conversation"
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
