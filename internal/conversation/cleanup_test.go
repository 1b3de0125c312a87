package conversation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm/llmtest"
	"github.com/gohands/gohands/internal/sandbox"
	"github.com/gohands/gohands/internal/session"
)

// newSandboxFixture is a manager whose loops run real agents in local sandboxes, with
// sandbox.close_delay 1 s (cleanup every 0.5 s). The scripted LLM has no turn: nothing here
// sends the agent a message.
func newSandboxFixture(t *testing.T) *fixture {
	bin := sandboxBinary(t)
	llm := llmtest.NewOpenAIServer(t, nil)
	f := newFixture(t, func(o *conversation.Options) {
		o.EventsOnly = false
		o.Config.Sandbox.CloseDelay = 1
		o.Sandboxes = &session.Sandboxes{Kind: session.KindLocal, Config: o.Config, Store: o.Store, Binary: bin}
	})
	f.saveSettings(llm.URL)
	return f
}

// waitAwaiting waits until the agent of id awaits the user.
func (f *fixture) waitAwaiting(id string) {
	f.t.Helper()
	waitFor(f.t, 30*time.Second, id+"'s agent to await the user", func() bool {
		infos := f.m.AgentLoopInfo(id)
		return len(infos) == 1 && infos[0].AgentState == events.StateAwaitingUserInput
	})
}

// alive reports whether a sandbox answers.
func alive(rt sandbox.Runtime) bool {
	_, err := rt.ListFiles(context.Background(), ".")
	return err == nil
}

// closedSandbox waits until a local sandbox is closed: its action server gone, its run directory
// removed.
func closedSandbox(t *testing.T, rt sandbox.Runtime, within time.Duration) {
	t.Helper()
	sb, ok := rt.(*session.Sandbox)
	if !ok {
		t.Fatalf("runtime %T is not a session sandbox", rt)
	}
	waitFor(t, within, "the sandbox to close", func() bool {
		_, err := os.Stat(sb.RunDir())
		return os.IsNotExist(err) && !alive(rt)
	})
	if _, err := rt.ListFiles(context.Background(), "."); !errors.Is(err, sandbox.ErrNotStarted) {
		t.Errorf("a closed sandbox answers: %v", err)
	}
}

// TestIdleLoopsAreClosed: with close_delay 1 s, a loop nobody is connected to, whose agent waits,
// is closed within a few seconds, with its sandbox; one with a connection is not, until it leaves.
func TestIdleLoopsAreClosed(t *testing.T) {
	f := newSandboxFixture(t)
	ctx := context.Background()
	f.newConversation("idle")
	f.newConversation("watched")
	if _, err := f.m.MaybeStartAgentLoop(ctx, "idle", conversation.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Join(ctx, conn("w1"), "watched", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	f.waitAwaiting("idle")
	f.waitAwaiting("watched")

	// REST calls borrow a running loop's sandbox; their Detach does not close it.
	idleRT, err := f.m.Attach(ctx, "idle")
	if err != nil {
		t.Fatal(err)
	}
	f.m.Detach(idleRT)
	watchedRT, err := f.m.Attach(ctx, "watched")
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := f.store.WorkspaceDir("watched")
	if watchedRT.HostWorkspace != ws || watchedRT.Stream == nil || watchedRT.Metadata.ConversationID != "watched" {
		t.Errorf("attached to a running loop: %+v", watchedRT)
	}
	f.m.Detach(watchedRT)

	idleSince := time.Now()
	waitFor(t, 10*time.Second, "the idle loop to be closed", func() bool { return !f.m.IsAgentLoopRunning("idle") })
	t.Logf("the idle loop was closed %v after its agent settled", time.Since(idleSince).Round(time.Millisecond))
	closedSandbox(t, idleRT.Runtime, 10*time.Second)

	// The watched loop outlives several cleanups.
	time.Sleep(2 * time.Second)
	if !f.m.IsAgentLoopRunning("watched") || !alive(watchedRT.Runtime) {
		t.Fatal("a loop with a connected client was closed, or its sandbox was")
	}
	f.m.DisconnectFromSession("w1")
	waitFor(t, 10*time.Second, "the loop to be closed once its client left", func() bool { return !f.m.IsAgentLoopRunning("watched") })
	closedSandbox(t, watchedRT.Runtime, 10*time.Second)
	if n := f.rec.Disconnected("idle") + f.rec.Disconnected("watched"); n != 0 {
		t.Errorf("cleanup disconnected rooms %d times; they had no connection", n)
	}

	// Joining again starts the loop again, on the same history.
	if _, err := f.m.Join(ctx, conn("w2"), "watched", conversation.JoinOptions{LatestEventID: -1}); err != nil {
		t.Fatal(err)
	}
	f.waitAwaiting("watched")
	loading := 0
	for _, ev := range f.storedEvents("watched") {
		if o, ok := ev.Observation.(*events.AgentStateChangedObservation); ok && o.AgentState == events.StateLoading {
			loading++
		}
	}
	if loading != 2 {
		t.Errorf("the conversation was started %d times, want 2", loading)
	}
}

// TestAttachDetach: a REST call on a conversation without a loop starts its sandbox and shares it
// with concurrent calls; the next cleanup after the last Detach closes it.
func TestAttachDetach(t *testing.T) {
	f := newSandboxFixture(t)
	ctx := context.Background()
	if _, err := f.m.Attach(ctx, "unknown"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("attach an unknown conversation: %v", err)
	}
	f.newConversation("rest")
	a1, err := f.m.Attach(ctx, "rest")
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := f.store.WorkspaceDir("rest")
	if a1.Runtime == nil || a1.HostWorkspace != ws || a1.Stream == nil || a1.Metadata.ConversationID != "rest" || a1.ID != "rest" {
		t.Fatalf("attached: %+v", a1)
	}
	if err := os.WriteFile(filepath.Join(ws, "hello.txt"), []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := a1.Runtime.ListFiles(ctx, ".")
	if err != nil || !slices.Contains(files, "hello.txt") {
		t.Fatalf("files in the attached sandbox: %v %v", files, err)
	}
	if f.m.IsAgentLoopRunning("rest") {
		t.Error("attaching started an agent loop")
	}

	a2, err := f.m.Attach(ctx, "rest")
	if err != nil {
		t.Fatal(err)
	}
	if a2.Runtime != a1.Runtime {
		t.Error("a second Attach started another sandbox")
	}
	f.m.Detach(a1)
	time.Sleep(1500 * time.Millisecond) // three cleanups
	if !alive(a2.Runtime) {
		t.Fatal("the sandbox was closed while a REST call still held it")
	}
	f.m.Detach(a2)
	closedSandbox(t, a2.Runtime, 5*time.Second)

	// Attaching again starts it again.
	a3, err := f.m.Attach(ctx, "rest")
	if err != nil {
		t.Fatal(err)
	}
	if a3.Runtime == a1.Runtime || !alive(a3.Runtime) {
		t.Fatal("attaching after the cleanup did not start the sandbox again")
	}
	f.m.Detach(a3)
	f.m.Detach(nil)
	closedSandbox(t, a3.Runtime, 5*time.Second)
}

// TestAttachWithoutSandboxes: a server without sandboxes refuses REST calls that need one, and
// keeps nothing held.
func TestAttachWithoutSandboxes(t *testing.T) {
	f := newFixture(t, nil)
	f.newConversation("nosandbox")
	for range 2 {
		if a, err := f.m.Attach(context.Background(), "nosandbox"); err == nil || errors.Is(err, conversation.ErrNotFound) {
			t.Fatalf("attach without sandboxes: %+v %v", a, err)
		}
	}
	// Nothing holds the conversation's events: it can be deleted.
	if ok, err := f.m.DeleteConversation(context.Background(), "nosandbox"); !ok || err != nil {
		t.Errorf("delete after failed attaches: %v %v", ok, err)
	}
}
