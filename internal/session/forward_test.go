package session_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/session"
)

// filterCase is one event appended to a stream, and how clients see it live and on replay.
type filterCase struct {
	name   string
	ev     func() *events.Event
	source events.Source
	// live is the source the event is forwarded with, "" when it is not forwarded live.
	live events.Source
	// replayed: a reconnecting client gets it (as stored), apart from the agent_state_changed rule.
	replayed bool
}

func message(content string) func() *events.Event {
	return func() *events.Event {
		return events.NewAction(&events.MessageAction{Content: content, ImageURLs: []string{}})
	}
}

func observation(o events.Observation) func() *events.Event {
	return func() *events.Event { return events.NewObservation(o, "some output") }
}

func action(a events.Action) func() *events.Event {
	return func() *events.Event { return events.NewAction(a) }
}

// filterCases are the rows of server.md §3.7 (live) and §3.4 (replay).
var filterCases = []filterCase{
	{"user message", message("hello"), events.SourceUser, events.SourceUser, true},
	{"agent message", message("hi there"), events.SourceAgent, events.SourceAgent, true},
	{"agent run action", action(&events.CmdRunAction{Command: "ls", Blocking: true}), events.SourceAgent, events.SourceAgent, true},
	{"agent run observation", observation(&events.CmdOutputObservation{Command: "ls", Metadata: events.DefaultCmdOutputMetadata()}),
		events.SourceAgent, events.SourceAgent, true},
	{"environment run observation", observation(&events.CmdOutputObservation{Command: "setup", Metadata: events.DefaultCmdOutputMetadata()}),
		events.SourceEnvironment, events.SourceAgent, true},
	{"environment agent_state_changed", observation(&events.AgentStateChangedObservation{AgentState: events.StateRunning}),
		events.SourceEnvironment, events.SourceAgent, true},
	{"environment recall observation", observation(&events.RecallObservation{RecallType: "knowledge"}),
		events.SourceEnvironment, events.SourceAgent, true},
	{"environment error observation", observation(&events.ErrorObservation{}), events.SourceEnvironment, events.SourceAgent, true},
	{"environment change_agent_state action", action(&events.ChangeAgentStateAction{AgentState: events.StateAwaitingUserInput}),
		events.SourceEnvironment, "", true},
	{"environment hidden run action", action(&events.CmdRunAction{Command: "setup.sh", Hidden: true}), events.SourceEnvironment, "", true},
	{"environment success observation", observation(&events.SuccessObservation{}), events.SourceEnvironment, "", true},
	{"environment think observation", observation(&events.AgentThinkObservation{}), events.SourceEnvironment, "", true},
	{"agent null action", action(&events.NullAction{}), events.SourceAgent, "", false},
	{"agent null observation", observation(&events.NullObservation{}), events.SourceAgent, "", false},
	{"environment null observation", observation(&events.NullObservation{}), events.SourceEnvironment, "", false},
	{"user null action", action(&events.NullAction{}), events.SourceUser, "", false},
	{"user recall action", action(&events.RecallAction{RecallType: "workspace_context", Query: "hello"}),
		events.SourceUser, events.SourceUser, false},
	{"agent recall action", action(&events.RecallAction{RecallType: "knowledge", Query: "x"}), events.SourceAgent, events.SourceAgent, false},
	{"agent recall observation", observation(&events.RecallObservation{RecallType: "knowledge"}), events.SourceAgent, events.SourceAgent, true},
	{"agent agent_state_changed", observation(&events.AgentStateChangedObservation{AgentState: events.StateAwaitingUserInput}),
		events.SourceAgent, events.SourceAgent, true},
	{"agent think action", action(&events.AgentThinkAction{Thought: "hmm"}), events.SourceAgent, events.SourceAgent, true},
}

// TestLiveFilterAndReplay appends one event of each row of the forwarding table to a stream with a
// connection joined: that connection gets each live as OpenHands forwards it (environment events
// rewritten to "agent" or dropped, null events dropped). A connection joining afterwards gets
// the replay: stored sources, environment events included, null events and recall actions
// skipped, and of the agent_state_changed observations only the last, after all the others.
func TestLiveFilterAndReplay(t *testing.T) {
	rec := newRecorder()
	id := "filter1"
	s := newSession(t, newStore(t), id, func(o *session.Options) { o.Emitter = rec })
	ctx := context.Background()
	if err := s.Join(ctx, "live", -1); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(filterCases))
	for i, c := range filterCases {
		ids[i] = appendEvent(t, s, c.ev(), c.source)
	}
	last := appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "the end"}), events.SourceUser)
	// received is what conn got, without the title update the first user message causes.
	received := func(conn string) []payload {
		var out []payload
		for _, d := range rec.Received(conn) {
			if p := parse(t, d.Payload); p.ID >= 0 {
				out = append(out, p)
			} else if p.Title != "hello" {
				t.Fatalf("unexpected payload %s", d.Payload)
			}
		}
		return out
	}
	waitFor(t, 10*time.Second, "the last event to be forwarded", func() bool {
		got := received("live")
		return len(got) > 0 && got[len(got)-1].ID == last
	})

	// Live: in order, filtered and rewritten.
	var want []string
	for i, c := range filterCases {
		if c.live != "" {
			want = append(want, fmt.Sprintf("%d %s", ids[i], c.live))
		}
	}
	want = append(want, fmt.Sprintf("%d user", last))
	var got []string
	for _, p := range received("live") {
		got = append(got, fmt.Sprintf("%d %s", p.ID, p.Source))
	}
	if !slices.Equal(got, want) {
		t.Errorf("live events (id source):\n got %v\nwant %v", got, want)
	}
	for _, d := range rec.Received("live") {
		if !d.Live {
			t.Errorf("the first connection got a replayed payload on an empty stream: %s", d.Payload)
		}
	}
	if n := len(rec.Room(id)); n != len(want)+1 {
		t.Errorf("the room was sent %d payloads, want %d events and a title", n, len(want))
	}

	// Replay from the start, and from the middle.
	for _, from := range []int64{-1, ids[6]} {
		conn := fmt.Sprintf("replay%d", from)
		if err := s.Join(ctx, conn, from); err != nil {
			t.Fatal(err)
		}
		var want []string
		lastState := ""
		for i, c := range filterCases {
			if ids[i] <= from || !c.replayed {
				continue
			}
			line := fmt.Sprintf("%d %s", ids[i], c.source)
			if _, ok := c.ev().Observation.(*events.AgentStateChangedObservation); ok {
				lastState = line
				continue
			}
			want = append(want, line)
		}
		want = append(want, fmt.Sprintf("%d user", last))
		if lastState != "" {
			want = append(want, lastState)
		}
		var got []string
		for _, d := range rec.Received(conn) {
			if d.Live {
				t.Errorf("%s got a live payload with nothing appended after it joined: %s", conn, d.Payload)
			}
			p := parse(t, d.Payload)
			got = append(got, fmt.Sprintf("%d %s", p.ID, p.Source))
		}
		if !slices.Equal(got, want) {
			t.Errorf("replay after %d (id source):\n got %v\nwant %v", from, got, want)
		}
	}

	// A client that is up to date gets nothing, then what comes next.
	if err := s.Join(ctx, "uptodate", last); err != nil {
		t.Fatal(err)
	}
	next := appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "more"}), events.SourceAgent)
	waitFor(t, 10*time.Second, "the next event to reach the up-to-date client", func() bool { return len(rec.Received("uptodate")) > 0 })
	if got := rec.Received("uptodate"); len(got) != 1 || parse(t, got[0].Payload).ID != next || !got[0].Live {
		t.Errorf("up-to-date client received %d payloads, first %s", len(got), got[0].Payload)
	}
}

// TestJoinWithoutEmitter: a session with nothing to send to accepts joins and sends nothing.
func TestJoinWithoutEmitter(t *testing.T) {
	s := newSession(t, newStore(t), "noemitter", nil)
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "x"}), events.SourceUser)
	if err := s.Join(context.Background(), "c", -1); err != nil {
		t.Fatal(err)
	}
	s.EmitTitle("x") // must not panic
}

// TestJoinAfterHistory: a session opened on a conversation with stored events forwards only what
// is appended after it opened, and replays the history to those who join.
func TestJoinAfterHistory(t *testing.T) {
	store := newStore(t)
	const id = "history1"
	newConversation(t, store, id)
	elog, err := store.OpenEventLog(id)
	if err != nil {
		t.Fatal(err)
	}
	st := events.NewStream(id, elog, events.StreamOptions{})
	for i := range 5 {
		if _, err := st.Append(context.Background(), events.NewAction(&events.MessageAction{Content: fmt.Sprint(i)}), events.SourceUser); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	s, err := session.New(session.Options{ConversationID: id, Store: store, Emitter: rec, EventsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Join(context.Background(), "c", 2); err != nil {
		t.Fatal(err)
	}
	appendEvent(t, s, events.NewAction(&events.MessageAction{Content: "5"}), events.SourceUser)
	received := func() []string {
		var got []string
		for _, d := range rec.Received("c") {
			if p := parse(t, d.Payload); p.ID >= 0 {
				got = append(got, fmt.Sprintf("%d %v", p.ID, d.Live))
			}
		}
		return got
	}
	waitFor(t, 10*time.Second, "the new event", func() bool { return len(received()) == 3 })
	got := received()
	if want := []string{"3 false", "4 false", "5 true"}; !slices.Equal(got, want) {
		t.Errorf("received (id live) %v, want %v", got, want)
	}
	for _, p := range rec.Room(id) {
		if id := parse(t, p).ID; id >= 0 && id < 5 {
			t.Errorf("history was forwarded live again: %s", p)
		}
	}
}
