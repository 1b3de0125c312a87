package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// lastUpdated is the stored last_updated_at of a conversation (zero when unset).
func lastUpdated(t testing.TB, store *storage.Store, id string) time.Time {
	t.Helper()
	md, err := store.GetConversation(id)
	if err != nil {
		t.Fatal(err)
	}
	if md.LastUpdatedAt == nil {
		return time.Time{}
	}
	return *md.LastUpdatedAt
}

// watchSaves counts the times metadata.json is replaced (each save writes a new file) until stop.
func watchSaves(t *testing.T, store *storage.Store, id string) (stop func() int) {
	dir, _ := store.ConversationDir(id)
	path := filepath.Join(dir, "metadata.json")
	prev, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	saves := 0
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if cur, err := os.Stat(path); err == nil && !os.SameFile(prev, cur) {
				saves++
				prev = cur
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	return func() int {
		close(done)
		wg.Wait()
		return saves
	}
}

// TestMetadataUpdates: events move last_updated_at, saved at once for the first event, then at
// most once per MetadataInterval, and at Close; the first user message titles the conversation
// and the room is told.
func TestMetadataUpdates(t *testing.T) {
	const interval = 800 * time.Millisecond
	store := newStore(t)
	rec := newRecorder()
	clk := &clock{now: time.Date(2025, 7, 30, 10, 0, 0, 0, time.UTC)}
	const id = "meta1"
	s := newSession(t, store, id, func(o *session.Options) {
		o.Emitter, o.Now, o.MetadataInterval = rec, clk.Now, interval
	})
	if !lastUpdated(t, store, id).IsZero() {
		t.Fatal("a new conversation has last_updated_at set")
	}
	ctx := context.Background()
	if err := s.Join(ctx, "c", -1); err != nil {
		t.Fatal(err)
	}

	// A burst of events: saved at once, then at most once per interval.
	stop := watchSaves(t, store, id)
	began := time.Now()
	t1 := clk.Now().Add(time.Minute)
	clk.Set(t1)
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "agent speaks first"}), events.SourceAgent)
	waitFor(t, 5*time.Second, "the first save", func() bool { return lastUpdated(t, store, id).Equal(t1) })
	if err := s.Dispatch(ctx, []byte(`{"action":"message","args":{"content":"  Please   write a poem about the sea and the wind"}}`)); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "agent"}), events.SourceAgent)
	}
	const title = "Please write a poem about the..."
	waitFor(t, 5*time.Second, "the title", func() bool {
		md, _ := store.GetConversation(id)
		return md != nil && md.Title != nil && *md.Title == title
	})
	saved := time.Now()
	if n, most := stop(), 1+int(time.Since(began)/interval)+1; n < 2 || n > most {
		t.Errorf("metadata saved %d times in %v for 32 events, want 2 to %d (interval %v)", n, time.Since(began), most, interval)
	}
	// The room is told right after the title is saved.
	var titles []string
	waitFor(t, 5*time.Second, "the title payload", func() bool {
		titles = nil
		for _, raw := range rec.Room(id) {
			if p := parse(t, raw); p.Title != "" {
				titles = append(titles, string(raw))
			}
		}
		return len(titles) > 0
	})
	if want := `{"status_update":true,"type":"info","message":"meta1","conversation_title":"` + title + `"}`; len(titles) != 1 || titles[0] != want {
		t.Errorf("title payloads %v, want [%s]", titles, want)
	}

	// A later event is saved only once the interval has passed.
	t2 := t1.Add(time.Minute)
	clk.Set(t2)
	if err := s.Dispatch(ctx, []byte(`{"action":"message","args":{"content":"another title?"}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the second save", func() bool { return lastUpdated(t, store, id).Equal(t2) })
	if waited := time.Since(saved); waited < interval/2 {
		t.Errorf("saved again %v after the first save, interval %v", waited, interval)
	}
	md, _ := store.GetConversation(id)
	if *md.Title != title {
		t.Errorf("a second user message retitled the conversation: %q", *md.Title)
	}

	// Close saves what is pending at once.
	t3 := t2.Add(time.Minute)
	clk.Set(t3)
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "last"}), events.SourceAgent)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lastUpdated(t, store, id); !got.Equal(t3) {
		t.Errorf("last_updated_at after Close %v, want %v", got, t3)
	}
	n := 0
	for _, raw := range rec.Room(id) {
		if parse(t, raw).Title != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d title payloads, want 1", n)
	}
}

// TestMetadataKeepsTitle: a conversation someone named keeps its name; a short first message is
// taken whole.
func TestMetadataKeepsTitle(t *testing.T) {
	store := newStore(t)
	for _, c := range []struct{ id, stored, want string }{
		{"named", "My own title", "My own title"},
		{"short", "", "Fix the bug"},
	} {
		newConversation(t, store, c.id)
		if c.stored != "" {
			md, _ := store.GetConversation(c.id)
			md.Title = strp(c.stored)
			if err := store.SaveConversation(md); err != nil {
				t.Fatal(err)
			}
		}
		s, err := session.New(session.Options{ConversationID: c.id, Store: store, EventsOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Dispatch(context.Background(), []byte(`{"action":"message","args":{"content":"Fix the bug"}}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		md, _ := store.GetConversation(c.id)
		if md.Title == nil || *md.Title != c.want || md.LastUpdatedAt == nil {
			t.Errorf("%s: title %v, last_updated_at %v; want title %q", c.id, md.Title, md.LastUpdatedAt, c.want)
		}
	}
}

// TestMetadataDeletedConversation: the updater does not bring back a conversation deleted while
// its session runs.
func TestMetadataDeletedConversation(t *testing.T) {
	store := newStore(t)
	const id = "deleted1"
	s := newSession(t, store, id, func(o *session.Options) { o.MetadataInterval = time.Hour })
	ctx := context.Background()
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "first"}), events.SourceUser)
	waitFor(t, 5*time.Second, "the first save", func() bool { return !lastUpdated(t, store, id).IsZero() })
	// Pending until Close: the interval is long.
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "second"}), events.SourceUser)
	time.Sleep(50 * time.Millisecond)
	if err := store.DeleteConversation(id); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetConversation(id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the deleted conversation is back: %v", err)
	}
	dir, _ := store.ConversationDir(id)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the deleted conversation's directory is back: %v", err)
	}
}
