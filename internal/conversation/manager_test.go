package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage"
)

// waitRunning waits until the loop of id reports RUNNING.
func (f *fixture) waitRunning(id string) conversation.LoopInfo {
	f.t.Helper()
	var info conversation.LoopInfo
	waitFor(f.t, 10*time.Second, id+" running", func() bool {
		infos := f.m.AgentLoopInfo(id)
		if len(infos) == 1 {
			info = infos[0]
		}
		return info.Status == conversation.StatusRunning
	})
	return info
}

// lastUpdated is the stored last_updated_at of id (zero when unset).
func (f *fixture) lastUpdated(id string) time.Time {
	f.t.Helper()
	md, err := f.store.GetConversation(id)
	if err != nil {
		f.t.Fatal(err)
	}
	if md.LastUpdatedAt == nil {
		return time.Time{}
	}
	return *md.LastUpdatedAt
}

// storedEvents reads the stored events of id.
func (f *fixture) storedEvents(id string) []*events.Event {
	f.t.Helper()
	st, release, err := f.m.Stream(id)
	if err != nil {
		f.t.Fatal(err)
	}
	defer release()
	var out []*events.Event
	for ev, err := range st.Search(context.Background(), events.Filter{EndID: -1}) {
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestJoinRefusals(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, id := range []string{"nosuchconversation", "../etc", ""} {
		if _, err := f.m.Join(ctx, conn("c1"), id, conversation.JoinOptions{LatestEventID: -1}); !errors.Is(err, conversation.ErrNotFound) {
			t.Errorf("Join(%q) = %v, want ErrNotFound", id, err)
		}
	}
	f.newConversation("nosettings")
	if _, err := f.m.Join(ctx, conn("c1"), "nosettings", conversation.JoinOptions{LatestEventID: -1}); !errors.Is(err, conversation.ErrSettingsNotFound) {
		t.Errorf("Join without settings = %v, want ErrSettingsNotFound", err)
	}
	if _, err := f.m.MaybeStartAgentLoop(ctx, "nosettings", conversation.StartOptions{}); !errors.Is(err, conversation.ErrSettingsNotFound) {
		t.Errorf("MaybeStartAgentLoop without settings = %v, want ErrSettingsNotFound", err)
	}
	if f.m.IsAgentLoopRunning("nosettings") || len(f.m.Connections()) != 0 {
		t.Error("a refused join left a loop or a connection behind")
	}
	if err := f.m.SendToEventStream(ctx, "c1", []byte(`{"action":"message","args":{"content":"x"}}`)); !errors.Is(err, conversation.ErrNotJoined) {
		t.Errorf("SendToEventStream from a connection that did not join: %v", err)
	}
	if err := f.m.SendEvent(ctx, "nosettings", []byte(`{"action":"message","args":{"content":"x"}}`)); !errors.Is(err, conversation.ErrNotRunning) {
		t.Errorf("SendEvent without a loop: %v", err)
	}
	if _, err := f.m.Microagents("nosettings"); !errors.Is(err, conversation.ErrNotRunning) {
		t.Errorf("Microagents without a loop: %v", err)
	}
}

// TestMaybeStartAgentLoopIdempotent: a second start returns the running loop and ignores its
// options (OpenHands does not send a second initial message).
func TestMaybeStartAgentLoopIdempotent(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	const id = "idem"
	f.newConversation(id)
	ctx := context.Background()
	info, err := f.m.MaybeStartAgentLoop(ctx, id, conversation.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ConversationID != id || info.URL != "/api/conversations/"+id || info.NumConnections != 0 {
		t.Errorf("first start: %+v", info)
	}
	f.waitRunning(id)
	again, err := f.m.MaybeStartAgentLoop(ctx, id, conversation.StartOptions{UserID: "someone",
		InitialMessage: &events.MessageAction{Content: "ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != conversation.StatusRunning || again.ConversationID != id {
		t.Errorf("second start: %+v", again)
	}
	if got := f.m.RunningAgentLoops(""); !slices.Equal(got, []string{id}) {
		t.Errorf("running loops %v", got)
	}
	if got := f.m.RunningAgentLoops("someone"); len(got) != 0 {
		t.Errorf("the second start's user took the loop over: %v", got)
	}
	if _, err := f.m.MaybeStartAgentLoop(ctx, "unknown", conversation.StartOptions{}); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("start an unknown conversation: %v", err)
	}
	loading := 0
	for _, ev := range f.storedEvents(id) {
		if m, ok := ev.Action.(*events.MessageAction); ok && m.Content == "ignored" {
			t.Error("the second start's initial message was sent")
		}
		if o, ok := ev.Observation.(*events.AgentStateChangedObservation); ok && o.AgentState == events.StateLoading {
			loading++
		}
	}
	if loading != 1 {
		t.Errorf("the loop started %d times", loading)
	}
}

// TestEviction: with max_concurrent_conversations 2, starting a third loop closes the least
// recently updated one, which is told why and disconnected.
func TestEviction(t *testing.T) {
	f := newFixture(t, func(o *conversation.Options) { o.Config.Core.MaxConcurrentConversations = 2 })
	f.saveSettings("")
	ctx := context.Background()
	for _, id := range []string{"older", "newer", "third"} {
		f.newConversation(id)
	}
	if _, err := f.m.Join(ctx, conn("n1"), "newer", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	f.waitRunning("newer")
	waitFor(t, 5*time.Second, "newer's metadata", func() bool { return !f.lastUpdated("newer").IsZero() })
	if _, err := f.m.Join(ctx, conn("o1"), "older", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	f.waitRunning("older")
	waitFor(t, 5*time.Second, "older's metadata", func() bool { return !f.lastUpdated("older").IsZero() })
	// "older" started last but "newer" is updated last.
	if err := f.m.SendEvent(ctx, "newer", []byte(`{"action":"message","args":{"content":"still here"}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "newer's metadata to move past older's", func() bool {
		return f.lastUpdated("newer").After(f.lastUpdated("older"))
	})

	if _, err := f.m.Join(ctx, conn("t1"), "third", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	if got := f.m.RunningAgentLoops(""); !slices.Equal(got, []string{"newer", "third"}) {
		t.Fatalf("running after the third start: %v", got)
	}
	if got := f.m.Connections(); !maps.Equal(got, map[string]string{"n1": "newer", "t1": "third"}) {
		t.Errorf("connections after the eviction: %v", got)
	}
	const notice = `{"status_update":true,"type":"error","id":"AGENT_ERROR$TOO_MANY_CONVERSATIONS","message":"Too many conversations at once. If you are still using this one, try reactivating it by prompting the agent to continue"}`
	var got []string
	for _, p := range f.rec.Room("older") {
		if strings.Contains(string(p), "TOO_MANY") {
			got = append(got, string(p))
		}
	}
	if len(got) != 1 || got[0] != notice {
		t.Errorf("the evicted room got %v, want [%s]", got, notice)
	}
	if n := f.rec.Disconnected("older"); n != 1 {
		t.Errorf("the evicted room was disconnected %d times", n)
	}
	if n := f.rec.Disconnected("newer") + f.rec.Disconnected("third"); n != 0 {
		t.Errorf("rooms that stay were disconnected %d times", n)
	}
	if err := f.m.SendToEventStream(ctx, "o1", []byte(`{"action":"message","args":{"content":"x"}}`)); !errors.Is(err, conversation.ErrNotJoined) {
		t.Errorf("send from an evicted connection: %v", err)
	}

	// Close waits for the evicted loop too: its event log is free afterwards.
	closeCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.m.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"older", "newer", "third"} {
		elog, err := f.store.OpenEventLog(id)
		if err != nil {
			t.Errorf("%s's event log is still open after Close: %v", id, err)
			continue
		}
		elog.Close()
	}
}

// TestConnections: joins and disconnects are counted per conversation; a disconnect leaves the
// loop running; CloseSession disconnects the room and forgets its connections.
func TestConnections(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	ctx := context.Background()
	f.newConversation("alpha")
	f.newConversation("beta")
	for _, j := range []struct{ conn, id string }{{"a1", "alpha"}, {"a2", "alpha"}, {"a3", "alpha"}, {"b1", "beta"}} {
		info, err := f.m.Join(ctx, conn(j.conn), j.id, conversation.JoinOptions{LatestEventID: -1})
		if err != nil {
			t.Fatal(err)
		}
		if info.ConversationID != j.id || info.NumConnections < 1 {
			t.Errorf("join %s: %+v", j.conn, info)
		}
	}
	if got := f.m.Connections("alpha"); !maps.Equal(got, map[string]string{"a1": "alpha", "a2": "alpha", "a3": "alpha"}) {
		t.Errorf("alpha's connections %v", got)
	}
	if got := f.m.Connections(); len(got) != 4 {
		t.Errorf("all connections %v", got)
	}
	if got := f.m.Connections("gamma"); len(got) != 0 {
		t.Errorf("connections of a conversation nobody joined: %v", got)
	}
	numConns := func(id string) int {
		infos := f.m.AgentLoopInfo(id)
		if len(infos) != 1 {
			t.Fatalf("loop info of %s: %v", id, infos)
		}
		return infos[0].NumConnections
	}
	if a, b := numConns("alpha"), numConns("beta"); a != 3 || b != 1 {
		t.Errorf("connections counted: alpha %d, beta %d", a, b)
	}
	if all := f.m.AgentLoopInfo(); len(all) != 2 || all[0].ConversationID != "alpha" || all[1].ConversationID != "beta" {
		t.Errorf("all loop info %+v", all)
	}
	if infos := f.m.AgentLoopInfo("gamma", "beta"); len(infos) != 1 || infos[0].ConversationID != "beta" {
		t.Errorf("loop info of gamma and beta: %+v", infos)
	}

	f.m.DisconnectFromSession("a2")
	f.m.DisconnectFromSession("a2")
	f.m.DisconnectFromSession("nobody")
	if n := numConns("alpha"); n != 2 {
		t.Errorf("alpha has %d connections after one left", n)
	}
	if err := f.m.SendToEventStream(ctx, "a2", []byte(`{"action":"message","args":{"content":"x"}}`)); !errors.Is(err, conversation.ErrNotJoined) {
		t.Errorf("send from a disconnected connection: %v", err)
	}
	if err := f.m.SendToEventStream(ctx, "a1", []byte(`{"action":"message","args":{"content":"from a1"}}`)); err != nil {
		t.Errorf("send from a joined connection: %v", err)
	}
	if err := f.m.SendToEventStream(ctx, "a1", []byte(`{"id":7,"action":"message","args":{"content":"x"}}`)); err == nil {
		t.Error("an event with an id was accepted")
	}
	f.m.DisconnectFromSession("b1")
	if !f.m.IsAgentLoopRunning("beta") || numConns("beta") != 0 {
		t.Error("the loop stopped when its last connection left")
	}

	if err := f.m.CloseSession(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if f.m.IsAgentLoopRunning("alpha") || len(f.m.Connections("alpha")) != 0 {
		t.Error("alpha still runs or has connections after CloseSession")
	}
	if n := f.rec.Disconnected("alpha"); n != 1 {
		t.Errorf("alpha's room was disconnected %d times", n)
	}
	if err := f.m.CloseSession(ctx, "alpha"); err != nil {
		t.Errorf("close a closed session: %v", err)
	}
	if n := f.rec.Disconnected("alpha"); n != 1 {
		t.Errorf("closing a closed session disconnected its room again (%d)", n)
	}
	if err := f.m.SendEvent(ctx, "alpha", []byte(`{"action":"message","args":{"content":"x"}}`)); !errors.Is(err, conversation.ErrNotRunning) {
		t.Errorf("send to a closed loop: %v", err)
	}
}

// TestDeleteConversation: deleting closes the loop and removes the stored conversation.
func TestDeleteConversation(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	ctx := context.Background()
	f.newConversation("doomed")
	f.newConversation("idle")
	if _, err := f.m.Join(ctx, conn("d1"), "doomed", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	f.waitRunning("doomed")
	for _, id := range []string{"doomed", "idle"} {
		ok, err := f.m.DeleteConversation(ctx, id)
		if !ok || err != nil {
			t.Fatalf("delete %s: %v %v", id, ok, err)
		}
		if _, err := f.store.GetConversation(id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s is still stored: %v", id, err)
		}
	}
	if f.m.IsAgentLoopRunning("doomed") || len(f.m.Connections()) != 0 || f.rec.Disconnected("doomed") != 1 {
		t.Error("the deleted conversation's loop or connection is left")
	}
	if ok, err := f.m.DeleteConversation(ctx, "doomed"); ok || err != nil {
		t.Errorf("delete it again: %v %v", ok, err)
	}
	if ok, err := f.m.DeleteConversation(ctx, "never"); ok || err != nil {
		t.Errorf("delete an unknown conversation: %v %v", ok, err)
	}
	if _, _, err := f.m.Stream("doomed"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("the stream of a deleted conversation: %v", err)
	}
}

// TestManagerClose: Close stops every loop and disconnects its room; afterwards nothing starts.
func TestManagerClose(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	ctx := context.Background()
	for _, id := range []string{"one", "two"} {
		f.newConversation(id)
		if _, err := f.m.Join(ctx, conn(id+"-c"), id, conversation.JoinOptions{LatestEventID: -1}); err != nil {
			t.Fatal(err)
		}
	}
	closeCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.m.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if got := f.m.RunningAgentLoops(""); len(got) != 0 {
		t.Errorf("running after Close: %v", got)
	}
	if len(f.m.Connections()) != 0 || f.rec.Disconnected("one") != 1 || f.rec.Disconnected("two") != 1 {
		t.Error("Close left connections or did not disconnect the rooms")
	}
	if _, err := f.m.MaybeStartAgentLoop(ctx, "one", conversation.StartOptions{}); !errors.Is(err, conversation.ErrClosed) {
		t.Errorf("start after Close: %v", err)
	}
	if _, err := f.m.Join(ctx, conn("late"), "one", conversation.JoinOptions{LatestEventID: -1}); !errors.Is(err, conversation.ErrClosed) {
		t.Errorf("join after Close: %v", err)
	}
	if _, err := f.m.Attach(ctx, "one"); !errors.Is(err, conversation.ErrClosed) {
		t.Errorf("attach after Close: %v", err)
	}
	if err := f.m.Close(closeCtx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestEmitTitle reaches the room with or without a running loop.
func TestEmitTitle(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	f.newConversation("titled")
	f.m.EmitTitle("titled", "Without a loop")
	if _, err := f.m.MaybeStartAgentLoop(context.Background(), "titled", conversation.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	f.m.EmitTitle("titled", "With a loop")
	var got []string
	for _, p := range f.rec.Room("titled") {
		if t := parse(f.t, p).Title; t != "" {
			got = append(got, t)
		}
	}
	if want := []string{"Without a loop", "With a loop"}; !slices.Equal(got, want) {
		t.Errorf("titles %v, want %v", got, want)
	}
}

// TestCloseSessionCountsLastEvents: events sent just before a loop is closed still update the
// conversation's metadata (the stream is shared with the manager, so closing the loop must not
// drop what its forwarder has not reached yet).
func TestCloseSessionCountsLastEvents(t *testing.T) {
	f := newFixture(t, nil)
	f.saveSettings("")
	ctx := context.Background()
	for i := range 3 {
		id := fmt.Sprint("closing", i)
		f.newConversation(id)
		if _, err := f.m.MaybeStartAgentLoop(ctx, id, conversation.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		f.waitRunning(id)
		waitFor(t, 5*time.Second, "the start's metadata", func() bool { return !f.lastUpdated(id).IsZero() })
		before := f.lastUpdated(id)
		if err := f.m.SendEvent(ctx, id, []byte(`{"action":"message","args":{"content":"hello there"}}`)); err != nil {
			t.Fatal(err)
		}
		if err := f.m.CloseSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		md, err := f.store.GetConversation(id)
		if err != nil {
			t.Fatal(err)
		}
		if md.Title == nil || *md.Title != "hello there" || !md.LastUpdatedAt.After(before) {
			t.Errorf("%s closed right after a message: title %q, last_updated_at %v (was %v)", id, *md.Title, md.LastUpdatedAt, before)
		}
	}
}
