package eventlog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openJournalT(t *testing.T, root string, opts JournalOptions) *Journal {
	t.Helper()
	j, err := OpenJournal(root, opts)
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	return j
}

func convLogPath(root string, i int) string {
	return filepath.Join(root, "conversations", fmt.Sprintf("c%03d", i), "events.log")
}

// appendN appends n records to l with consecutive ids from l.NextID(), each durable. It may run
// on its own goroutine: a failure is reported with Errorf.
func appendN(t *testing.T, l *Log, n int) {
	t.Helper()
	for range n {
		id := l.NextID()
		if err := l.AppendDurable(context.Background(), id, payloadFor(id)); err != nil {
			t.Errorf("AppendDurable %d: %v", id, err)
			return
		}
	}
}

// checkRecords requires records 0..n-1 with their payloads, and nothing else.
func checkRecords(t *testing.T, path string, n int) {
	t.Helper()
	l := openT(t, path, Options{Logger: discardLogger()})
	defer l.Close()
	ids := collect(t, l, 0, -1, false, 0)
	if len(ids) != n {
		t.Fatalf("%s: %d records after recovery, want %d", path, len(ids), n)
	}
	for i, id := range ids {
		if id != int64(i) {
			t.Fatalf("%s: record %d has id %d", path, i, id)
		}
	}
}

// abandon simulates the process dying: the journal's descriptors are closed (releasing its flock)
// without retiring anything, and so are the logs' (without their closing sync).
func abandon(j *Journal, logs ...*Log) {
	j.mu.Lock()
	j.closed = true
	j.seg.f.Close()
	j.mu.Unlock()
	for _, l := range logs {
		l.mu.Lock()
		l.closing, l.closed = true, true
		l.mu.Unlock()
		l.f.Close()
	}
}

// loseUnsynced simulates a power loss for a log file whose writes since its creation never
// reached the disk: only the header remains.
func loseUnsynced(t *testing.T, path string) {
	t.Helper()
	if err := os.Truncate(path, fileHeaderSize); err != nil {
		t.Fatal(err)
	}
}

func segments(t *testing.T, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, "journal", "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestJournalGroupCommitAcrossLogs: 64 logs with one writer each share the journal's fdatasyncs,
// and every record is there after a clean close and reopen.
func TestJournalGroupCommitAcrossLogs(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	const logs, per = 64, 100
	ls := make([]*Log, logs)
	for i := range ls {
		ls[i] = openT(t, convLogPath(root, i), Options{Logger: discardLogger(), Journal: j})
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() { appendN(t, l, per) })
	}
	wg.Wait()
	j.mu.Lock()
	syncs := j.syncs
	j.mu.Unlock()
	for _, l := range ls {
		if n := l.syncCount(); n != 0 {
			t.Fatalf("a journal-backed log made %d fdatasyncs of its own", n)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d durable appends over %d logs took %d journal fdatasyncs", logs*per, logs, syncs)
	if syncs > logs*per/4 {
		t.Fatalf("%d journal fdatasyncs for %d appends: no batching across logs", syncs, logs*per)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if s := segments(t, root); len(s) != 0 {
		t.Fatalf("segments left after a clean close: %v", s)
	}
	for i := range ls {
		checkRecords(t, convLogPath(root, i), per)
	}
}

// TestJournalReplaysLostWrites: after a crash in which the log files lost every unsynced write,
// the journal gives back every acknowledged record byte for byte; a deleted log is not
// re-created; a torn last frame is ignored.
func TestJournalReplaysLostWrites(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	var ls []*Log
	for i := range 3 {
		ls = append(ls, openT(t, convLogPath(root, i), Options{Logger: discardLogger(), Journal: j}))
	}
	for i, l := range ls {
		appendN(t, l, 50+10*i)
	}
	seg := j.seg.path
	abandon(j, ls...)
	for i := range ls {
		loseUnsynced(t, convLogPath(root, i))
	}
	deleted := filepath.Dir(convLogPath(root, 2))
	if err := os.RemoveAll(deleted); err != nil {
		t.Fatal(err)
	}
	// A torn frame after the last acknowledged one: a write that was under way.
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := appendFrame(nil, ls[0].rel, ls[0].ino, 1<<20, []byte("never acknowledged"))
	f.Write(torn[:len(torn)-3])
	f.Close()

	logger, logs := captureLogger()
	j2 := openJournalT(t, root, JournalOptions{Logger: logger})
	defer j2.Close()
	if s := segments(t, root); len(s) != 1 || s[0] == seg {
		t.Fatalf("segments after replay %v: want only the new journal's", s)
	}
	checkRecords(t, convLogPath(root, 0), 50)
	checkRecords(t, convLogPath(root, 1), 60)
	if _, err := os.Stat(deleted); !os.IsNotExist(err) {
		t.Fatalf("replay re-created a deleted conversation: %v", err)
	}
	if out := logs.String(); !strings.Contains(out, "torn_tail=true") || !strings.Contains(out, "skipped=") {
		t.Fatalf("replay log: %s", out)
	}
}

// TestJournalRotation: a full segment is retired (its logs synced, the file removed) while
// appends go on, and nothing is lost across a crash afterwards.
func TestJournalRotation(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger(), SegmentSize: 4 << 10})
	var ls []*Log
	for i := range 4 {
		ls = append(ls, openT(t, convLogPath(root, i), Options{Logger: discardLogger(), Journal: j}))
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() { appendN(t, l, 300) })
	}
	wg.Wait()
	j.retiring.Wait()
	if s := segments(t, root); len(s) != 1 {
		t.Fatalf("%d segments after rotation, want the current one: %v", len(s), s)
	}
	// Close one log before the crash: its file was synced at Close.
	if err := ls[3].Close(); err != nil {
		t.Fatal(err)
	}
	abandon(j, ls[:3]...)
	j2 := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	defer j2.Close()
	for i := range ls {
		checkRecords(t, convLogPath(root, i), 300)
	}
}

// TestJournalSkipsLogOpenElsewhere: frames for a log that a live process holds are not written
// into it behind its back.
func TestJournalSkipsLogOpenElsewhere(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	l := openT(t, convLogPath(root, 0), Options{Logger: discardLogger(), Journal: j})
	appendN(t, l, 5)
	abandon(j, l)
	held := openT(t, convLogPath(root, 0), Options{Logger: discardLogger()}) // the live holder
	defer held.Close()
	before, _ := os.ReadFile(convLogPath(root, 0))
	logger, logs := captureLogger()
	j2 := openJournalT(t, root, JournalOptions{Logger: logger})
	defer j2.Close()
	after, _ := os.ReadFile(convLogPath(root, 0))
	if !bytes.Equal(before, after) {
		t.Fatal("replay wrote into a log held by a live process")
	}
	if !strings.Contains(logs.String(), "another process has open") {
		t.Fatalf("no warning: %s", logs.String())
	}
}

// TestJournalLeavesLiveSegments: a second journal over the same root (another process) neither
// replays nor removes the first one's segment.
func TestJournalLeavesLiveSegments(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	l := openT(t, convLogPath(root, 0), Options{Logger: discardLogger(), Journal: j})
	appendN(t, l, 3)
	j2 := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	if s := segments(t, root); len(s) != 2 {
		t.Fatalf("segments %v: want both journals'", s)
	}
	appendN(t, l, 3)
	l.Close()
	j2.Close()
	j.Close()
	checkRecords(t, convLogPath(root, 0), 6)
}

func TestJournalRefusesForeignFiles(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "journal"), 0o700)
	os.WriteFile(filepath.Join(root, "journal", "x.wal"), []byte("not ours at all"), 0o600)
	if _, err := OpenJournal(root, JournalOptions{Logger: discardLogger()}); err == nil || !strings.Contains(err.Error(), "not a journal segment") {
		t.Fatalf("OpenJournal over a foreign .wal: %v", err)
	}
	j := openJournalT(t, t.TempDir(), JournalOptions{Logger: discardLogger()})
	defer j.Close()
	if _, err := Open(filepath.Join(root, "elsewhere", "events.log"), Options{Journal: j}); err == nil {
		t.Fatal("a log outside the journal's root was accepted")
	}
}

// TestJournalCheckpointOfClosedLog: a retirement that meets a log closed meanwhile does not fail
// the journal (Close synced the log itself).
func TestJournalCheckpointOfClosedLog(t *testing.T) {
	root := t.TempDir()
	j := openJournalT(t, root, JournalOptions{Logger: discardLogger()})
	defer j.Close()
	l := openT(t, convLogPath(root, 0), Options{Logger: discardLogger(), Journal: j})
	appendN(t, l, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.syncFile(); err != nil {
		t.Fatalf("syncFile of a closed log: %v", err)
	}
	seg := &segment{path: filepath.Join(root, "journal", "old.wal"), logs: map[*Log]struct{}{l: {}}}
	f, err := os.Create(seg.path)
	if err != nil {
		t.Fatal(err)
	}
	seg.f = f
	if err := j.checkpoint(seg); err != nil {
		t.Fatalf("checkpoint with a closed log: %v", err)
	}
	if _, err := os.Stat(seg.path); !os.IsNotExist(err) {
		t.Fatal("the retired segment was not removed")
	}
}
