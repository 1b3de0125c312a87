package conversation_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
)

// lastLiveID is the id of the newest event a connection received live, -1 when none: the kind of
// latest_event_id a reconnecting client can hold.
func lastLiveID(t testing.TB, r *recorder, connID string) int64 {
	got := r.Received(connID)
	for i := len(got) - 1; i >= 0; i-- {
		if p := parse(t, got[i].Payload); p.ID >= 0 {
			return p.ID
		}
	}
	return -1
}

// TestReplayThenLiveUnderLoad joins many connections at random moments, with random
// latest_event_ids, while events are appended as fast as they can be. Every connection must get
// every event after its latest_event_id exactly once: the stored ones by replay (§3.4: null events
// and recall actions skipped, only the last agent_state_changed, moved last), the rest live
// (§3.7), with no gap and no duplicate between the two.
func TestReplayThenLiveUnderLoad(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	const id = "busy"
	f.newConversation(id)
	ctx := context.Background()
	if _, err := f.m.Join(ctx, conn("observer"), id, conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	// The start writes loading (0) and awaiting_user_input (1); no other agent_state_changed
	// follows, so the replay rule for them is the same for every joiner.
	waitFor(t, 10*time.Second, "the start's agent states", func() bool { return lastLiveID(t, f.rec, "observer") >= 1 })
	st, release, err := f.m.Stream(id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	const appends, joiners = 600, 40
	var wg sync.WaitGroup
	appended := make(chan struct{})
	wg.Go(func() {
		defer close(appended)
		for i := range appends {
			var err error
			switch i % 6 {
			case 0, 3:
				err = f.m.SendEvent(ctx, id, fmt.Appendf(nil, `{"action":"message","args":{"content":"m%d"}}`, i))
			case 1:
				_, err = st.Append(ctx, events.NewObservation(&events.NullObservation{}, ""), events.SourceAgent)
			case 2:
				_, err = st.Append(ctx, events.NewAction(&events.RecallAction{RecallType: "knowledge", Query: "q"}), events.SourceUser)
			case 4:
				_, err = st.Append(ctx, events.NewAction(&events.ChangeAgentStateAction{AgentState: events.StateAwaitingUserInput}),
					events.SourceEnvironment)
			case 5:
				_, err = st.Append(ctx, events.NewAction(&events.MessageAction{Content: "agent"}), events.SourceAgent)
			}
			if err != nil {
				t.Errorf("append %d: %v", i, err)
				return
			}
		}
	})
	latest := make([]int64, joiners)
	for j := range joiners {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(j), uint64(time.Now().UnixNano())))
			// Join once the stream reaches a random point of the run.
			target := r.Int64N(appends)
			for lastLiveID(t, f.rec, "observer") < target {
				select {
				case <-appended:
					target = 0
				case <-time.After(time.Duration(r.IntN(2000)) * time.Microsecond):
				}
			}
			top := lastLiveID(t, f.rec, "observer")
			latest[j] = r.Int64N(top+2) - 1 // -1 … top
			if _, err := f.m.Join(ctx, conn(fmt.Sprint("c", j)), id, conversation.JoinOptions{LatestEventID: latest[j]}); err != nil {
				t.Errorf("join c%d: %v", j, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := f.m.SendEvent(ctx, id, []byte(`{"action":"message","args":{"content":"the end"}}`)); err != nil {
		t.Fatal(err)
	}
	end := st.LatestID()
	conns := []string{"observer"}
	for j := range joiners {
		conns = append(conns, fmt.Sprint("c", j))
	}
	waitFor(t, 30*time.Second, "every connection to get the last event", func() bool {
		for _, c := range conns {
			if lastLiveID(t, f.rec, c) != end {
				return false
			}
		}
		return true
	})

	evs := make([]*events.Event, end+1)
	for i := range evs {
		if evs[i], err = st.Get(int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	mixed := 0
	for j, c := range conns {
		l := int64(-1)
		if j > 0 {
			l = latest[j-1]
		}
		replayed, live := checkReplayThenLive(t, c, l, f.rec.Received(c), evs)
		if replayed > 0 && live > 0 {
			mixed++
		}
	}
	t.Logf("%d events; %d of %d joiners got both a replay and live events", end+1, mixed, joiners)
	if mixed == 0 {
		t.Error("no joiner got both a replay and live events: the test did not exercise the hand-over")
	}
}

// checkReplayThenLive checks what one connection with latest_event_id latest received against the
// stored events, and returns how many events it got by replay and live.
func checkReplayThenLive(t *testing.T, name string, latest int64, got []delivery, evs []*events.Event) (replayed, live int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Errorf("%s (latest_event_id %d): %s", name, latest, fmt.Sprintf(format, args...))
	}
	var replayIDs, liveIDs []int64
	trailing := int64(-1) // the agent_state_changed moved to the end of the replay
	count := map[int64]int{}
	for i, d := range got {
		p := parse(t, d.Payload)
		if p.ID < 0 {
			if !d.Live || p.Title == "" {
				fail("unexpected payload %s", d.Payload)
			}
			continue
		}
		count[p.ID]++
		if p.ID <= latest {
			fail("got event %d, which it already had", p.ID)
		}
		if !d.Live {
			if len(liveIDs) > 0 {
				fail("replayed event %d after live ones", p.ID)
			}
			if trailing >= 0 {
				fail("replayed event %d after the trailing agent_state_changed %d", p.ID, trailing)
			}
			if p.Observation == "agent_state_changed" {
				trailing = p.ID
				continue
			}
			if n := len(replayIDs); n > 0 && p.ID <= replayIDs[n-1] {
				fail("replay out of order: %d after %d (delivery %d)", p.ID, replayIDs[n-1], i)
			}
			replayIDs = append(replayIDs, p.ID)
			continue
		}
		if n := len(liveIDs); n > 0 && p.ID <= liveIDs[n-1] {
			fail("live events out of order: %d after %d", p.ID, liveIDs[n-1])
		}
		if n := len(replayIDs); n > 0 && p.ID <= replayIDs[n-1] {
			fail("live event %d not after the replayed %d", p.ID, replayIDs[n-1])
		}
		liveIDs = append(liveIDs, p.ID)
	}
	inReplay, inLive := map[int64]bool{}, map[int64]bool{}
	for _, id := range replayIDs {
		inReplay[id] = true
	}
	for _, id := range liveIDs {
		inLive[id] = true
	}
	maxReplay, minLive := latest, int64(math.MaxInt64)
	if n := len(replayIDs); n > 0 {
		maxReplay = replayIDs[n-1]
	}
	if len(liveIDs) > 0 {
		minLive = liveIDs[0]
	}
	// Of the agent_state_changed stored before the hand-over (those not forwarded live), only the
	// last is replayed.
	lastState := int64(-1)
	for _, ev := range evs {
		if _, ok := ev.Observation.(*events.AgentStateChangedObservation); ok && ev.ID > latest && !inLive[ev.ID] {
			lastState = ev.ID
		}
	}
	if trailing != lastState {
		fail("trailing agent_state_changed %d, want %d", trailing, lastState)
	}
	for _, ev := range evs {
		id := ev.ID
		if count[id] > 1 {
			fail("got event %d %d times", id, count[id])
		}
		if id <= latest {
			continue
		}
		present := count[id] > 0
		switch a := ev.Action.(type) {
		case *events.RecallAction: // not replayed; live when appended after the hand-over
			if inReplay[id] {
				fail("recall action %d was replayed", id)
			}
			if !present && id > minLive {
				fail("recall action %d, appended after the hand-over, was not forwarded", id)
			}
			continue
		case *events.ChangeAgentStateAction: // environment: replayed only
			if inLive[id] {
				fail("environment action %d was forwarded live", id)
			}
			if !present && id < maxReplay {
				fail("environment action %d, stored before the hand-over, was not replayed", id)
			}
			continue
		case *events.MessageAction:
			if !present {
				fail("message %d (%s, %q) is missing", id, ev.Source, a.Content)
			}
			continue
		}
		switch ev.Observation.(type) {
		case *events.NullObservation:
			if present {
				fail("null observation %d was sent", id)
			}
		case *events.AgentStateChangedObservation:
			if !inLive[id] && present != (id == lastState) || !present && id > minLive {
				fail("agent_state_changed %d sent %v (last replayed %d)", id, present, lastState)
			}
		default:
			fail("unexpected stored event %d %s", id, ev.Type())
		}
	}
	return len(replayIDs), len(liveIDs)
}
