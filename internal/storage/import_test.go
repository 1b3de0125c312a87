package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// openHandsEvent renders an event the way OpenHands' Python JSON encoder writes it.
func openHandsEvent(id int, ts string) string {
	return fmt.Sprintf(`{"id": %d, "timestamp": "%s", "source": "user", "message": "caf\u00e9 %d", "action": "message", `+
		`"args": {"content": "hello %d", "image_urls": [], "file_urls": [], "wait_for_response": false}}`, id, ts, id, id)
}

// writeTree creates files (path relative to root → content).
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readEvents returns the ids and payloads in a conversation's event log.
func readEvents(t *testing.T, s *Store, id string) ([]int64, map[int64]string) {
	t.Helper()
	l, err := s.OpenEventLog(id)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ids []int64
	payloads := map[int64]string{}
	if err := l.Scan(0, l.LastID(), false, func(id int64, p []byte) bool {
		ids = append(ids, id)
		payloads[id] = string(p)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return ids, payloads
}

func TestImportOpenHands(t *testing.T) {
	src := t.TempDir()
	meta := func(id string, extra string) string {
		return `{"conversation_id":"` + id + `","selected_repository":null,"user_id":` + extra +
			`,"selected_branch":null,"git_provider":null,"title":"Imported ` + id + `","last_updated_at":"2025-07-30T10:15:44.512301Z",` +
			`"trigger":"gui","pr_number":[],"created_at":"2025-07-30T10:12:01.004211Z","llm_model":"gpt-4o",` +
			`"accumulated_cost":0.25,"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}`
	}
	files := map[string]string{
		// Good conversation with gappy ids; 10 must come after 5, not after 1.
		"sessions/aaa111/metadata.json":         meta("aaa111", "null"),
		"sessions/aaa111/events/0.json":         openHandsEvent(0, "2025-07-30T10:12:02.000001"),
		"sessions/aaa111/events/1.json":         openHandsEvent(1, "2025-07-30T10:12:03"),
		"sessions/aaa111/events/2.json":         openHandsEvent(2, "2025-07-30T10:12:04.5"),
		"sessions/aaa111/events/5.json":         openHandsEvent(5, "2025-07-30T10:12:05"),
		"sessions/aaa111/events/10.json":        openHandsEvent(10, "2025-07-30T10:12:06") + "\n",
		"sessions/aaa111/events/notes.txt":      "not an event",
		"sessions/aaa111/event_cache/0-25.json": "[]",
		"sessions/aaa111/agent_state.pkl":       "gASVAAAA",
		// Malformed event: the whole conversation fails.
		"sessions/bbb222/metadata.json": meta("bbb222", "null"),
		"sessions/bbb222/events/0.json": openHandsEvent(0, "2025-07-30T10:12:02"),
		"sessions/bbb222/events/1.json": `{"id": 1, "timestamp": `,
		// Already in the store.
		"sessions/ccc333/metadata.json": meta("ccc333", "null"),
		"sessions/ccc333/events/0.json": openHandsEvent(0, "2025-07-30T10:12:02"),
		// No metadata: synthesized from the oldest event timestamp.
		"sessions/ddd444/events/3.json": openHandsEvent(3, "2025-07-29T09:00:00.250000"),
		"sessions/ddd444/events/4.json": openHandsEvent(4, "2025-07-29T08:59:59"),
		// Metadata without created_at and no events: synthesized from the directory mtime.
		"sessions/eee555/metadata.json": `{"conversation_id":"eee555","title":"no date"}`,
		// An event that is valid JSON but not an object.
		"sessions/fff666/metadata.json": meta("fff666", "null"),
		"sessions/fff666/events/0.json": `[1, 2]`,
		// Metadata in sessions/, events under users/<uid>/conversations/.
		"sessions/ggg777/metadata.json":                 meta("ggg777", `"u1"`),
		"users/u1/conversations/ggg777/events/0.json":   openHandsEvent(0, "2025-07-30T10:12:02"),
		"users/u1/conversations/ggg777/events/1.json":   openHandsEvent(1, "2025-07-30T10:12:03"),
		"users/u1/conversations/ggg777/agent_state.pkl": "x",
		// Metadata that is not JSON.
		"sessions/hhh888/metadata.json": `{"conversation_id":`,
		"sessions/hhh888/events/0.json": openHandsEvent(0, "2025-07-30T10:12:02"),
		// Foreign things.
		"sessions/.DS_Store": "junk",
		// An id the store cannot hold.
		"sessions/bad.id/metadata.json": meta("bad.id", "null"),
	}
	writeTree(t, src, files)
	mtime := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "sessions", "eee555"), mtime, mtime); err != nil {
		t.Fatal(err)
	}

	s := openStore(t)
	present := newMeta("ccc333", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	present.Title = ptr("mine")
	if err := s.CreateConversation(present); err != nil {
		t.Fatal(err)
	}
	srcBefore := snapshot(t, src)

	rep, err := s.ImportOpenHands(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rep.Warnings {
		t.Log("warning:", w)
	}
	for _, e := range rep.Errors {
		t.Log("error:", e)
	}
	if want := []string{"aaa111", "ddd444", "eee555", "ggg777"}; !reflect.DeepEqual(rep.Imported, want) {
		t.Errorf("Imported = %v, want %v", rep.Imported, want)
	}
	if want := []string{"ccc333"}; !reflect.DeepEqual(rep.Skipped, want) {
		t.Errorf("Skipped = %v, want %v", rep.Skipped, want)
	}
	wantErrs := []string{
		filepath.Join(src, "sessions", "bad.id"),
		filepath.Join(src, "sessions", "bbb222", "events", "1.json"),
		filepath.Join(src, "sessions", "fff666", "events", "0.json"),
		filepath.Join(src, "sessions", "hhh888", "metadata.json"),
	}
	if len(rep.Errors) != len(wantErrs) {
		t.Errorf("Errors = %v, want one per %v", rep.Errors, wantErrs)
	}
	for i, e := range rep.Errors {
		if i < len(wantErrs) && !strings.Contains(e.Error(), wantErrs[i]) {
			t.Errorf("error %q does not name %s", e, wantErrs[i])
		}
	}
	for _, frag := range []string{"ddd444/metadata.json missing", "oldest event timestamp", "eee555/metadata.json without created_at",
		"modification time", "notes.txt: not an event file", ".DS_Store: not a conversation directory"} {
		if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, frag) }) {
			t.Errorf("no warning containing %q", frag)
		}
	}

	// Events: same ids, same bytes.
	ids, payloads := readEvents(t, s, "aaa111")
	if want := []int64{0, 1, 2, 5, 10}; !reflect.DeepEqual(ids, want) {
		t.Errorf("aaa111 ids %v, want %v", ids, want)
	}
	for _, id := range ids {
		if want := files[fmt.Sprintf("sessions/aaa111/events/%d.json", id)]; payloads[id] != want {
			t.Errorf("event %d payload %q, want %q", id, payloads[id], want)
		}
	}
	if ids, _ := readEvents(t, s, "ggg777"); !reflect.DeepEqual(ids, []int64{0, 1}) {
		t.Errorf("ggg777 ids %v", ids)
	}

	// Metadata.
	m, err := s.GetConversation("aaa111")
	if err != nil {
		t.Fatal(err)
	}
	if *m.Title != "Imported aaa111" || FormatTime(m.CreatedAt) != "2025-07-30T10:12:01.004211Z" || m.TotalTokens != 15 {
		t.Errorf("aaa111 metadata %+v", m)
	}
	m, err = s.GetConversation("ddd444")
	if err != nil {
		t.Fatal(err)
	}
	oldest, _ := time.ParseInLocation("2006-01-02T15:04:05", "2025-07-29T08:59:59", time.Local)
	newest, _ := time.ParseInLocation("2006-01-02T15:04:05.000000", "2025-07-29T09:00:00.250000", time.Local)
	if !m.CreatedAt.Equal(oldest) || m.LastUpdatedAt == nil || !m.LastUpdatedAt.Equal(newest) {
		t.Errorf("ddd444 created %v updated %v, want %v and %v", m.CreatedAt, m.LastUpdatedAt, oldest, newest)
	}
	m, err = s.GetConversation("eee555")
	if err != nil {
		t.Fatal(err)
	}
	if !m.CreatedAt.Equal(mtime) || m.Title != nil {
		t.Errorf("eee555 %+v, want created %v and no title", m, mtime)
	}
	if ids, _ := readEvents(t, s, "eee555"); len(ids) != 0 {
		t.Errorf("eee555 has events %v", ids)
	}
	if m, _ := s.GetConversation("ccc333"); m == nil || m.Title == nil || *m.Title != "mine" {
		t.Errorf("existing conversation was touched: %+v", m)
	}

	// Failed conversations left nothing; no temporary directories remain.
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "conversations"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"aaa111", "ccc333", "ddd444", "eee555", "ggg777"}; !reflect.DeepEqual(names, want) {
		t.Errorf("conversations/ holds %v, want %v", names, want)
	}
	sameSnapshot(t, srcBefore, snapshot(t, src))

	// A second run imports nothing new.
	rep, err = s.ImportOpenHands(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 0 || len(rep.Skipped) != 5 || len(rep.Errors) != 4 {
		t.Errorf("second run: %+v", rep)
	}
}

func TestImportOpenHandsCancelled(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"sessions/a1/events/0.json": openHandsEvent(0, "2025-07-30T10:12:02"),
		"sessions/b2/events/0.json": openHandsEvent(0, "2025-07-30T10:12:02"),
	})
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := s.ImportOpenHands(ctx, src)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(rep.Imported) != 0 {
		t.Errorf("imported %v after cancel", rep.Imported)
	}
	if list, _ := s.ListConversations(); len(list) != 0 {
		t.Errorf("store has %d conversations", len(list))
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "conversations"))
	if len(entries) != 0 {
		t.Errorf("leftovers: %v", entries)
	}
}

func TestImportOpenHandsBadSource(t *testing.T) {
	s := openStore(t)
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := s.ImportOpenHands(context.Background(), missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing source: %v", err)
	}
	empty := t.TempDir()
	rep, err := s.ImportOpenHands(context.Background(), empty)
	if err != nil || len(rep.Imported)+len(rep.Errors) != 0 || len(rep.Warnings) != 1 {
		t.Errorf("empty source: %+v, %v", rep, err)
	}
	dup := t.TempDir()
	writeTree(t, dup, map[string]string{
		"sessions/d1/events/7.json":  openHandsEvent(7, "2025-07-30T10:12:02"),
		"sessions/d1/events/07.json": openHandsEvent(7, "2025-07-30T10:12:02"),
	})
	rep, err = s.ImportOpenHands(context.Background(), dup)
	if err != nil || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error(), "07.json") {
		t.Errorf("duplicate event ids: %+v, %v", rep, err)
	}
}
