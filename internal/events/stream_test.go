package events

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStream(t testing.TB, path string, opts StreamOptions) *Stream {
	t.Helper()
	log, err := eventlog.Open(path, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return NewStream("c1", log, opts)
}

func msg(text string) *Event { return NewAction(&MessageAction{Content: text}) }

// collector is a subscriber that records what it receives.
type collector struct {
	mu   sync.Mutex
	ids  []int64
	evs  []*Event
	cond *sync.Cond
}

func newCollector() *collector {
	c := &collector{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *collector) handle(ev *Event) {
	c.mu.Lock()
	c.ids = append(c.ids, ev.ID)
	c.evs = append(c.evs, ev)
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *collector) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.AfterFunc(10*time.Second, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.ids) < n {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("received %d events, want %d", len(c.ids), n)
		}
		c.cond.Wait()
	}
	return append([]int64(nil), c.ids...)
}

func assertConsecutive(t *testing.T, ids []int64, from int64) {
	t.Helper()
	for i, id := range ids {
		if id != from+int64(i) {
			t.Fatalf("ids out of order at %d: %v", i, ids)
		}
	}
}

func TestStreamAppendSubscribeReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := openStream(t, path, StreamOptions{})
	c := newCollector()
	if err := s.Subscribe(SubscriberTest, c.handle, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(SubscriberTest, c.handle, -1); err == nil {
		t.Fatal("a second subscription under one id must fail")
	}
	ctx := context.Background()
	for i := range 10 {
		ev := msg(fmt.Sprint("hello ", i))
		id, err := s.Append(ctx, ev, SourceUser)
		if err != nil || id != int64(i) || ev.ID != id || ev.Source != SourceUser || ev.Timestamp == "" {
			t.Fatalf("append %d: id %d err %v ev %+v", i, id, err, ev)
		}
	}
	assertConsecutive(t, c.waitFor(t, 10), 0)
	if got := c.evs[3].Action.(*MessageAction).Content; got != "hello 3" {
		t.Fatalf("delivered %q", got)
	}
	if _, err := s.Append(ctx, msg("x"), "martian"); err == nil {
		t.Fatal("an unknown source must be refused")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, msg("late"), SourceUser); err != ErrClosed {
		t.Fatalf("append after close: %v", err)
	}

	// Reopen: ids continue, history is intact.
	s = openStream(t, path, StreamOptions{})
	defer s.Close()
	if s.LatestID() != 9 {
		t.Fatalf("latest id after reopen %d", s.LatestID())
	}
	id, err := s.Append(ctx, msg("again"), SourceUser)
	if err != nil || id != 10 {
		t.Fatalf("append after reopen: %d %v", id, err)
	}
	ev, err := s.Get(4)
	if err != nil || ev.Action.(*MessageAction).Content != "hello 4" {
		t.Fatalf("get 4: %v %v", ev, err)
	}
	if _, err := s.Get(99); !IsNotFound(err) {
		t.Fatalf("get 99: %v", err)
	}
}

// A slow subscriber must neither delay a fast one nor lose events, even when it falls so far behind
// that its events have left the in-memory window and come back from the log.
func TestSlowSubscriberCatchesUpFromLog(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{Window: 8})
	defer s.Close()
	release := make(chan struct{})
	slow, fast := newCollector(), newCollector()
	if err := s.Subscribe("slow", func(ev *Event) {
		<-release
		slow.handle(ev)
	}, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe("fast", fast.handle, -1); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if _, err := s.Append(context.Background(), msg(fmt.Sprint(i)), SourceAgent); err != nil {
			t.Fatal(err)
		}
	}
	assertConsecutive(t, fast.waitFor(t, n), 0) // while slow is still stuck on event 0
	close(release)
	assertConsecutive(t, slow.waitFor(t, n), 0)
	for i, ev := range slow.evs {
		if ev.Action.(*MessageAction).Content != fmt.Sprint(i) {
			t.Fatalf("slow subscriber got wrong event %d", i)
		}
	}
}

// Many goroutines append at once; every subscriber sees every event exactly once, in id order.
func TestConcurrentAppends(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{Window: 16})
	a, b := newCollector(), newCollector()
	s.Subscribe("a", a.handle, -1)
	s.Subscribe("b", b.handle, -1)
	var wg sync.WaitGroup
	const writers, each = 8, 50
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Append(context.Background(), msg(fmt.Sprint(w, "/", i)), SourceAgent); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assertConsecutive(t, a.waitFor(t, writers*each), 0)
	assertConsecutive(t, b.waitFor(t, writers*each), 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Subscribing from an old id replays the past, then follows live events with no gap or duplicate,
// even while appends are happening.
func TestSubscribeFromPastNoGapNoDuplicate(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{Window: 4})
	defer s.Close()
	ctx := context.Background()
	for i := range 20 {
		s.Append(ctx, msg(fmt.Sprint(i)), SourceUser)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 20; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.Append(ctx, msg(fmt.Sprint(i)), SourceUser)
		}
	}()
	c := newCollector()
	if err := s.Subscribe("late", c.handle, 5); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 100)
	close(stop)
	wg.Wait()
	total := int(s.LatestID()) + 1
	assertConsecutive(t, c.waitFor(t, total-5), 5)
}

func TestCloseDrainsSubscribers(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	c := newCollector()
	s.Subscribe("x", func(ev *Event) {
		time.Sleep(time.Millisecond)
		c.handle(ev)
	}, -1)
	for i := range 30 {
		s.Append(context.Background(), msg(fmt.Sprint(i)), SourceUser)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.ids) != 30 {
		t.Fatalf("close returned before delivering everything: %d of 30", len(c.ids))
	}
	if err := s.Subscribe("y", c.handle, -1); err != ErrClosed {
		t.Fatalf("subscribe after close: %v", err)
	}
}

func TestPanickingSubscriberKeepsGoing(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	defer s.Close()
	c := newCollector()
	s.Subscribe("p", func(ev *Event) {
		c.handle(ev)
		if ev.ID == 1 {
			panic("boom")
		}
	}, -1)
	for i := range 3 {
		s.Append(context.Background(), msg(fmt.Sprint(i)), SourceUser)
	}
	assertConsecutive(t, c.waitFor(t, 3), 0)
}

func TestUnsubscribe(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	defer s.Close()
	c := newCollector()
	s.Subscribe("u", c.handle, -1)
	s.Append(context.Background(), msg("a"), SourceUser)
	c.waitFor(t, 1)
	s.Unsubscribe("u")
	s.Append(context.Background(), msg("b"), SourceUser)
	time.Sleep(20 * time.Millisecond)
	if len(c.ids) != 1 {
		t.Fatalf("delivered after unsubscribe: %v", c.ids)
	}
	if err := s.Subscribe("u", c.handle, -1); err != nil {
		t.Fatalf("resubscribe: %v", err)
	}
}

func TestSecretsMasked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := openStream(t, path, StreamOptions{})
	s.SetSecrets(map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t", "EMPTY": "", "ACCENT": "clé-ü"})
	c := newCollector()
	s.Subscribe("x", c.handle, -1)
	ctx := context.Background()
	run := &CmdRunAction{Command: "curl -H 'Authorization: ghp_s3cr3t' x", ConfirmationState: ConfirmationConfirmed}
	s.Append(ctx, NewAction(run), SourceAgent)
	s.Append(ctx, NewAction(&MessageAction{Content: "see clé-ü", ImageURLs: []string{"data:ghp_s3cr3t"}}), SourceUser)
	obs := NewObservation(&CmdOutputObservation{Command: "env", Metadata: DefaultCmdOutputMetadata()}, "TOKEN=ghp_s3cr3t\n")
	s.Append(ctx, obs, SourceAgent)
	c.waitFor(t, 3)
	// The caller keeps what it needs; subscribers and the log get the masked copy.
	if !strings.Contains(run.Command, "ghp_s3cr3t") {
		t.Fatal("the caller's own event must not be masked")
	}
	if got := c.evs[0].Action.(*CmdRunAction).Command; got != "curl -H 'Authorization: <secret_hidden>' x" {
		t.Fatalf("delivered command %q", got)
	}
	if got := c.evs[0].Message(); strings.Contains(got, "ghp_") {
		t.Fatalf("message not masked: %q", got)
	}
	if got := c.evs[1].Action.(*MessageAction); got.Content != "see <secret_hidden>" || got.ImageURLs[0] != "data:<secret_hidden>" {
		t.Fatalf("message %+v", got)
	}
	if got := c.evs[2].Content(); got != "TOKEN=<secret_hidden>\n" {
		t.Fatalf("content %q", got)
	}
	s.Close()
	log, err := eventlog.Open(path, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	log.Scan(0, -1, false, func(id int64, raw []byte) bool {
		if strings.Contains(string(raw), "ghp_s3cr3t") || strings.Contains(string(raw), "clé") {
			t.Errorf("secret on disk in event %d: %s", id, raw)
		}
		return true
	})
}

func TestSearch(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	defer s.Close()
	ctx := context.Background()
	s.Append(ctx, msg("hello"), SourceUser)                                                               // 0
	s.Append(ctx, NewAction(&CmdRunAction{Command: "ls", ConfirmationState: "confirmed"}), SourceAgent)   // 1
	s.Append(ctx, NewObservation(&CmdOutputObservation{Command: "ls", Hidden: true}, "a b"), SourceAgent) // 2
	s.Append(ctx, NewObservation(&AgentStateChangedObservation{AgentState: StateRunning}, ""), SourceEnvironment)
	s.Append(ctx, msg("Bye"), SourceAgent) // 4
	ids := func(f Filter) []int64 {
		var out []int64
		for ev, err := range s.Search(ctx, f) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev.ID)
		}
		return out
	}
	cases := []struct {
		name string
		f    Filter
		want string
	}{
		{"all", All, "[0 1 2 3 4]"},
		{"range", Filter{StartID: 1, EndID: 3}, "[1 2 3]"},
		{"reverse limit", Filter{EndID: -1, Reverse: true, Limit: 2}, "[4 3]"},
		{"source", Filter{EndID: -1, Source: SourceAgent}, "[1 2 4]"},
		{"include class", Filter{EndID: -1, IncludeTypes: []string{"MessageAction"}}, "[0 4]"},
		{"include kind", Filter{EndID: -1, IncludeTypes: []string{"observation:run"}}, "[2]"},
		{"exclude", Filter{EndID: -1, ExcludeTypes: []string{"AgentStateChangedObservation", "action:message"}}, "[1 2]"},
		{"hidden", Filter{EndID: -1, ExcludeHidden: true}, "[0 1 3 4]"},
		{"query", Filter{EndID: -1, Query: "BYE"}, "[4]"},
		{"dates", Filter{EndID: -1, StartDate: "2999"}, "[]"},
		{"start past end", Filter{StartID: 9, EndID: -1}, "[]"},
	}
	for _, tc := range cases {
		if got := fmt.Sprint(ids(tc.f)); got != tc.want {
			t.Errorf("%s: got %s want %s", tc.name, got, tc.want)
		}
	}
}

func TestReplayRaw(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	defer s.Close()
	ctx := context.Background()
	s.Append(ctx, msg(`tricky "action":"run" text`), SourceUser)
	s.Append(ctx, NewObservation(&AgentStateChangedObservation{AgentState: StateRunning}, ""), SourceEnvironment)
	s.Append(ctx, NewAction(&CmdRunAction{Command: "ls", ConfirmationState: "confirmed"}), SourceAgent)
	var got []string
	for ev, err := range s.Replay(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		dec, err := Decode(ev.JSON)
		if err != nil || dec.ID != ev.ID {
			t.Fatalf("raw event %d does not decode to itself: %v", ev.ID, err)
		}
		got = append(got, fmt.Sprintln(ev.ID, ev.Action, ev.Type, ev.Source))
	}
	if want := "[1 false agent_state_changed environment\n 2 true run agent\n]"; fmt.Sprint(got) != want {
		t.Fatalf("got %v want %s", got, want)
	}
}

func TestPeekEnvelopeAgreesWithDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		ev, err := Decode([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		p, ok := peekEnvelope([]byte(line))
		if !ok || p.Type != ev.Type() || p.Action != (ev.Action != nil) || p.Source != ev.Source {
			t.Errorf("line %d: peek %+v, decode %s %s", i+1, p, ev.Type(), ev.Source)
		}
	}
	for _, bad := range []string{``, `[]`, `{"action"`, `{"action": 1}`, `{"x": "unterminated}`, `{"a": {"b": [}`} {
		if _, ok := peekEnvelope([]byte(bad)); ok {
			t.Errorf("%q: peek accepted it", bad)
		}
	}
}

// TestPostOrderedAndShared: posted events come out in id order, interleaved with waited appends,
// and subscribers get the posted event itself (no second decode) unless a secret was masked in it.
func TestPostOrderedAndShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := openStream(t, path, StreamOptions{})
	s.SetSecrets(map[string]string{"TOKEN": "tok_s3cr3t"})
	c := newCollector()
	var raws sync.Map
	if err := s.SubscribeRaw("x", func(ev *Event, raw []byte) {
		raws.Store(ev.ID, string(raw))
		c.handle(ev)
	}, -1); err != nil {
		t.Fatal(err)
	}
	var posted []*Event
	const n = 200 // within the window (256), where posted events are kept
	for i := range n {
		if i%50 == 0 {
			if _, err := s.Append(context.Background(), msg(fmt.Sprint("waited ", i)), SourceAgent); err != nil {
				t.Fatal(err)
			}
			continue
		}
		text := fmt.Sprint("posted ", i)
		if i%7 == 0 {
			text += " tok_s3cr3t"
		}
		ev := msg(text)
		id, err := s.Post(ev, SourceUser)
		if err != nil || id != int64(i) || ev.ID != id {
			t.Fatalf("post %d: id %d, ev.ID %d, err %v", i, id, ev.ID, err)
		}
		posted = append(posted, ev)
	}
	assertConsecutive(t, c.waitFor(t, n), 0)
	for _, ev := range posted {
		got := c.evs[ev.ID]
		masked := strings.Contains(ev.Action.(*MessageAction).Content, "tok_s3cr3t")
		if masked {
			if got == ev || strings.Contains(got.Action.(*MessageAction).Content, "tok_s3cr3t") {
				t.Fatalf("event %d: a masked event must reach subscribers as a masked copy", ev.ID)
			}
		} else if got != ev {
			t.Fatalf("event %d: subscribers got a decoded copy, want the posted event", ev.ID)
		}
		raw, _ := raws.Load(ev.ID)
		want, _ := Marshal(got)
		if raw.(string) != string(want) {
			t.Fatalf("event %d: raw %s, want %s", ev.ID, raw, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStream(t, path, StreamOptions{})
	defer s.Close()
	if got := s.LatestID(); got != n-1 {
		t.Fatalf("after reopen the latest id is %d, want %d", got, n-1)
	}
}

// TestPostThenCloseKeepsEverything: Close returns only after every posted event is durable and
// delivered.
func TestPostThenCloseKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := openStream(t, path, StreamOptions{})
	c := newCollector()
	s.Subscribe("x", c.handle, -1)
	for i := range 1000 {
		if _, err := s.Post(msg(fmt.Sprint(i)), SourceUser); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	got := len(c.ids)
	c.mu.Unlock()
	if got != 1000 {
		t.Fatalf("delivered %d of 1000 posted events before Close returned", got)
	}
	if _, err := s.Post(msg("late"), SourceUser); err != ErrClosed {
		t.Fatalf("post after close: %v, want ErrClosed", err)
	}
}

// failingLog is a real log whose syncs fail from a given id on, as a full or broken disk would.
type failingLog struct {
	Log
	from int64
}

func (l *failingLog) WaitDurable(ctx context.Context, id int64) error {
	if id >= l.from {
		return fmt.Errorf("no space left on device")
	}
	return l.Log.WaitDurable(ctx, id)
}

// TestPostFailureReported: an event that cannot be made durable is never published, and the
// failure reaches OnFailure instead of vanishing.
func TestPostFailureReported(t *testing.T) {
	log, err := eventlog.Open(filepath.Join(t.TempDir(), "events.log"), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	failures := make(chan error, 10)
	s := NewStream("c1", &failingLog{Log: log, from: 2}, StreamOptions{OnFailure: func(err error) { failures <- err }})
	c := newCollector()
	s.Subscribe("x", c.handle, -1)
	for i := range 3 {
		if _, err := s.Post(msg(fmt.Sprint(i)), SourceUser); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			c.waitFor(t, 2)
		}
	}
	select {
	case err := <-failures:
		if !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "event 2") {
			t.Fatalf("failure %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failure was not reported")
	}
	s.Close()
	if got := len(c.ids); got != 2 {
		t.Fatalf("%d events published, want the 2 durable ones", got)
	}
}

// TestConcurrentPosts: posts from many goroutines at once are all published; none waits for a
// later post to be flushed.
func TestConcurrentPosts(t *testing.T) {
	s := openStream(t, filepath.Join(t.TempDir(), "events.log"), StreamOptions{})
	defer s.Close()
	c := newCollector()
	s.Subscribe("x", c.handle, -1)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				if _, err := s.Post(msg(fmt.Sprint(g, i)), SourceUser); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	assertConsecutive(t, c.waitFor(t, 800), 0) // nothing posted afterwards pushes the last ones out
}
