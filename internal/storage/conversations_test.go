package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func newMeta(id string, created time.Time) *ConversationMetadata {
	return &ConversationMetadata{ConversationID: id, CreatedAt: created.UTC(), PRNumber: []int{}}
}

func TestConversationLifecycle(t *testing.T) {
	s := openStore(t)
	id := "0123456789abcdef0123456789abcdef"
	created := time.Date(2025, 8, 1, 10, 14, 57, 2101000, time.UTC)
	m := newMeta(id, created)
	m.Title = ptr("Conversation 01234")
	m.Trigger = ptr("gui")
	if err := s.CreateConversation(m); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConversation(m); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	dir, err := s.ConversationDir(id)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(s.Root(), "conversations", id) {
		t.Errorf("ConversationDir = %s", dir)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("conversation dir mode %v, want 0700", got)
	}
	if got := mode(t, filepath.Join(dir, "metadata.json")); got != 0o600 {
		t.Errorf("metadata.json mode %v, want 0600", got)
	}
	got, err := s.GetConversation(id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("get: %+v, want %+v", got, m)
	}

	updated := created.Add(time.Minute)
	m.LastUpdatedAt = &updated
	m.AccumulatedCost = 0.5
	m.TotalTokens = 10
	if err := s.SaveConversation(m); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConversation(id); !reflect.DeepEqual(got, m) {
		t.Errorf("after save: %+v, want %+v", got, m)
	}

	// Event log, trajectory and workspace live with the conversation.
	l, err := s.OpenEventLog(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AppendDurable(context.Background(), 0, []byte(`{"id":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.EventLogPath(id); p != filepath.Join(dir, "events.log") {
		t.Errorf("EventLogPath = %s", p)
	}
	tp, err := s.WriteTrajectory(id, []byte(`{"trajectory":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(tp); string(data) != `{"trajectory":[]}` || tp != filepath.Join(dir, "trajectory.json") {
		t.Errorf("trajectory at %s: %q", tp, data)
	}
	if got := mode(t, tp); got != 0o600 {
		t.Errorf("trajectory mode %v", got)
	}
	ws, err := s.WorkspaceDir(id)
	if err != nil {
		t.Fatal(err)
	}
	if ws != filepath.Join(s.Root(), "workspace", id) || mode(t, ws) != 0o700 {
		t.Errorf("workspace %s mode %v", ws, mode(t, ws))
	}
	if err := os.WriteFile(filepath.Join(ws, "main.go"), []byte("package main"), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteConversation(id); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, ws} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after delete: %v", p, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Root(), "conversations")); len(entries) != 0 {
		t.Errorf("leftovers in conversations/: %v", entries)
	}
	if _, err := s.GetConversation(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteConversation(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := s.WriteTrajectory(id, []byte("{}")); !errors.Is(err, ErrNotFound) {
		t.Errorf("trajectory of deleted conversation: %v, want ErrNotFound", err)
	}
	if err := s.SaveConversation(&ConversationMetadata{ConversationID: id}); err == nil {
		t.Error("saved metadata without created_at")
	}
}

func TestDeleteConversationOnEmptyStore(t *testing.T) {
	s := openStore(t)
	if err := s.DeleteConversation("nothing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func TestGetConversationOpenHandsFile(t *testing.T) {
	s := openStore(t)
	id := "4f8a3c2b9d1e4a6f8b0c2d4e6f8a0b1c"
	dir := filepath.Join(s.Root(), "conversations", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), []byte(openHandsMetadata), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := s.GetConversation(id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Title == nil || *m.Title != "Fix the flaky test" || m.CreatedAt.Format(time.RFC3339) != "2025-07-30T10:12:01Z" {
		t.Errorf("got %+v", m)
	}
}

// TestListConversationsRobust fills conversations/ with every kind of foreign or broken entry and
// checks that the good conversations are listed in order, each bad entry is reported by name, and
// nothing on disk changes.
func TestListConversationsRobust(t *testing.T) {
	s := openStore(t)
	base := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"old", "newest", "middle", "tie-b", "tie-a"} {
		created := base.Add(time.Duration([]int{1, 5, 3, 2, 2}[i]) * time.Hour)
		if err := s.CreateConversation(newMeta(id, created)); err != nil {
			t.Fatal(err)
		}
	}
	conv := filepath.Join(s.Root(), "conversations")
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(conv, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("README.txt", "notes")
	if err := os.Mkdir(filepath.Join(conv, "nometa"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("badjson/metadata.json", `{"conversation_id":"badjson",`)
	write("nocreated/metadata.json", `{"conversation_id":"nocreated"}`)
	write("mismatch/metadata.json", `{"conversation_id":"other","created_at":"2025-07-01T00:00:00Z"}`)
	write("bad name/metadata.json", `{"conversation_id":"bad name","created_at":"2025-07-01T00:00:00Z"}`)
	if err := os.MkdirAll(filepath.Join(conv, "unreadable", "metadata.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(conv, tmpPrefix+"import-x-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s.Root())

	list, errs := s.ListConversations()
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ConversationID)
	}
	if want := []string{"newest", "middle", "tie-a", "tie-b", "old"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("listed %v, want %v", ids, want)
	}
	wantErrs := map[string]string{
		"README.txt": "not a conversation directory",
		"nometa":     "no metadata.json",
		"badjson":    "invalid metadata JSON",
		"nocreated":  "no created_at",
		"mismatch":   "does not match",
		"bad name":   "invalid conversation id",
		"unreadable": "is a directory",
	}
	for _, err := range errs {
		t.Log(err)
	}
	if len(errs) != len(wantErrs) {
		t.Errorf("got %d errors, want %d: %v", len(errs), len(wantErrs), errs)
	}
	for name, frag := range wantErrs {
		path := filepath.Join(conv, name)
		found := false
		for _, err := range errs {
			if strings.Contains(err.Error(), path) && strings.Contains(err.Error(), frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error naming %s with %q in %v", path, frag, errs)
		}
	}
	sameSnapshot(t, before, snapshot(t, s.Root()))

	// The same entries through GetConversation.
	if _, err := s.GetConversation("nometa"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nometa: %v, want ErrNotFound", err)
	}
	if _, err := s.GetConversation("nocreated"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nocreated: %v, want ErrNotFound", err)
	}
	if _, err := s.GetConversation("badjson"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), filepath.Join(conv, "badjson", "metadata.json")) {
		t.Errorf("badjson: %v", err)
	}
	// A good conversation next to the broken ones still works end to end.
	if err := s.DeleteConversation("old"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(conv, "README.txt")); err != nil {
		t.Errorf("README.txt damaged: %v", err)
	}
}

func TestListConversationsEmpty(t *testing.T) {
	s := openStore(t)
	list, errs := s.ListConversations()
	if len(list) != 0 || len(errs) != 0 {
		t.Errorf("empty store: %v %v", list, errs)
	}
}

func TestConversationsConcurrent(t *testing.T) {
	s := openStore(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := fmt.Sprintf("c%d", i%5)
				switch (g + i) % 4 {
				case 0:
					s.SaveConversation(newMeta(id, time.Now()))
				case 1:
					s.GetConversation(id)
				case 2:
					s.ListConversations()
				case 3:
					s.DeleteConversation(id)
				}
			}
		}()
	}
	wg.Wait()
	list, errs := s.ListConversations()
	if len(errs) != 0 {
		t.Errorf("errors after concurrent use: %v", errs)
	}
	for _, m := range list {
		if _, err := s.GetConversation(m.ConversationID); err != nil {
			t.Error(err)
		}
	}
}
