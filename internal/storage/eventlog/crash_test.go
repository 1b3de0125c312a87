package eventlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashChildEnv switches TestCrashChild from a skipped test into the child
// process of TestCrashRecovery; it holds the log path.
const crashChildEnv = "GOHANDS_EVENTLOG_CRASH_CHILD"

// crashJournalEnv, when set, makes the child use a journal rooted there.
const crashJournalEnv = "GOHANDS_EVENTLOG_CRASH_JOURNAL"

// TestCrashRecovery proves the durability promise against a real crash: a
// child process appends as fast as it can and prints every id whose
// AppendDurable returned; the parent SIGKILLs it mid-stream, reopens the log,
// and requires every acknowledged id with its exact payload. Each round
// appends more to the same file, so recovery of earlier crashes is exercised
// too.
func TestCrashRecovery(t *testing.T) { testCrashRecovery(t, "") }

// TestCrashRecoveryJournal is TestCrashRecovery with the child's log made durable by a journal:
// each crash leaves a segment behind, which the next OpenJournal replays and removes.
func TestCrashRecoveryJournal(t *testing.T) { testCrashRecovery(t, t.TempDir()) }

func testCrashRecovery(t *testing.T, journalRoot string) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	path := tempLogPath(t)
	if journalRoot != "" {
		path = filepath.Join(journalRoot, "conv", "events.log")
	}
	acked := map[int64]bool{}
	for round := range 3 {
		ids := runCrashChild(t, path, journalRoot, 300+200*round)
		for _, id := range ids {
			acked[id] = true
		}

		logger, logs := captureLogger()
		var j *Journal
		if journalRoot != "" {
			if n := len(segments(t, journalRoot)); n != 1 {
				t.Fatalf("round %d: %d segments left by the crash, want 1", round, n)
			}
			j = openJournalT(t, journalRoot, JournalOptions{Logger: logger})
		}
		l := openT(t, path, Options{Logger: logger, Journal: j})
		for id := range acked {
			p, err := l.Read(id)
			if err != nil {
				t.Fatalf("round %d: acknowledged id %d lost: %v", round, id, err)
			}
			if string(p) != string(payloadFor(id)) {
				t.Fatalf("round %d: acknowledged id %d has payload %q, want %q", round, id, p, payloadFor(id))
			}
		}
		// Everything that survived is intact and gap-free: the child
		// assigns consecutive ids.
		want := int64(0)
		if err := l.Scan(0, -1, false, func(id int64, p []byte) bool {
			if id != want || string(p) != string(payloadFor(id)) {
				t.Errorf("round %d: record %d: id %d payload %q", round, want, id, p)
				return false
			}
			want++
			return true
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acked this round, %d acked in total, %d records in the log; recovery log: %s",
			round, len(ids), len(acked), l.Len(), strings.TrimSpace(logs.String()))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if j != nil {
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// runCrashChild starts the child on path, reads acknowledged ids until it has
// at least n, kills the child with SIGKILL, and returns every id it
// acknowledged before dying.
func runCrashChild(t *testing.T, path, journalRoot string, n int) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashJournalEnv+"="+journalRoot)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	var ids []int64
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			// Only complete lines count: a torn last line is no ack.
			break
		}
		if err != nil {
			t.Fatalf("read child output: %v", err)
		}
		rest, ok := strings.CutPrefix(line, "ACK ")
		if !ok {
			continue // test framework chatter
		}
		id, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		if err != nil {
			t.Fatalf("bad ack line %q", line)
		}
		ids = append(ids, id)
		if len(ids) == n && !killed {
			// Kill while the child is in full flight, then keep reading
			// the acks it printed before dying.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if !killed {
		t.Fatalf("child exited after %d acks without being killed", len(ids))
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	return ids
}

// TestCrashChild is the child half of TestCrashRecovery; it is skipped unless
// started by it. It appends from several goroutines until killed and prints
// "ACK <id>" after each AppendDurable returns.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("child half of TestCrashRecovery")
	}
	var j *Journal
	if root := os.Getenv(crashJournalEnv); root != "" {
		var err error
		if j, err = OpenJournal(root, JournalOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
	}
	l, err := Open(path, Options{Journal: j})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	var (
		mu    sync.Mutex // orders ids, as the real caller does
		next  = l.NextID()
		outMu sync.Mutex // one ack per write, never interleaved
	)
	ctx := context.Background()
	for range 8 {
		go func() {
			for {
				mu.Lock()
				id := next
				next++
				err := l.Append(id, payloadFor(id))
				mu.Unlock()
				if err == nil {
					err = l.WaitDurable(ctx, id)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child:", err)
					os.Exit(2)
				}
				outMu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %d\n", id)
				outMu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute)
	fmt.Fprintln(os.Stderr, "crash child: not killed within a minute")
	os.Exit(3)
}
