package eventlog

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestAppendReadScanReopen(t *testing.T) {
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	if got := l.LastID(); got != -1 {
		t.Fatalf("LastID of new log = %d, want -1", got)
	}
	if got := l.NextID(); got != 0 {
		t.Fatalf("NextID of new log = %d, want 0", got)
	}
	if got := l.Len(); got != 0 {
		t.Fatalf("Len of new log = %d, want 0", got)
	}

	// Ids with gaps, as in an imported conversation.
	ids := []int64{0, 1, 2, 5, 6, 10, 11, 12, 20}
	ctx := context.Background()
	for _, id := range ids {
		if err := l.AppendDurable(ctx, id, payloadFor(id)); err != nil {
			t.Fatalf("AppendDurable(%d): %v", id, err)
		}
	}

	check := func(t *testing.T, l *Log) {
		if got := l.LastID(); got != 20 {
			t.Errorf("LastID = %d, want 20", got)
		}
		if got := l.NextID(); got != 21 {
			t.Errorf("NextID = %d, want 21", got)
		}
		if got := l.Len(); got != len(ids) {
			t.Errorf("Len = %d, want %d", got, len(ids))
		}
		for _, id := range ids {
			p, err := l.Read(id)
			if err != nil || string(p) != string(payloadFor(id)) {
				t.Errorf("Read(%d) = %q, %v", id, p, err)
			}
		}
		for _, id := range []int64{3, 4, 7, 19, 21, 1000} {
			if _, err := l.Read(id); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), l.Path()) {
				t.Errorf("Read(%d) error = %v, want ErrNotFound naming the path", id, err)
			}
		}
		tests := []struct {
			name     string
			from, to int64
			reverse  bool
			limit    int
			want     []int64
		}{
			{"all", 0, -1, false, 0, ids},
			{"all reverse", 0, -1, true, 0, []int64{20, 12, 11, 10, 6, 5, 2, 1, 0}},
			{"range in gaps", 3, 11, false, 0, []int64{5, 6, 10, 11}},
			{"range in gaps reverse", 3, 11, true, 0, []int64{11, 10, 6, 5}},
			{"single", 6, 6, false, 0, []int64{6}},
			{"missing single", 7, 7, false, 0, nil},
			{"past end", 21, -1, false, 0, nil},
			{"inverted", 10, 5, false, 0, nil},
			{"early stop", 0, -1, false, 3, []int64{0, 1, 2}},
			{"early stop reverse", 0, -1, true, 2, []int64{20, 12}},
			{"to past end", 11, 1000, false, 0, []int64{11, 12, 20}},
		}
		for _, tc := range tests {
			got := collect(t, l, tc.from, tc.to, tc.reverse, tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: Scan(%d, %d, %v) = %v, want %v", tc.name, tc.from, tc.to, tc.reverse, got, tc.want)
			}
		}
	}
	check(t, l)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	l = openT(t, path, Options{})
	defer l.Close()
	check(t, l)

	// Appending after reopen continues from NextID.
	if err := l.AppendDurable(ctx, l.NextID(), payloadFor(21)); err != nil {
		t.Fatalf("AppendDurable after reopen: %v", err)
	}
	if got := l.LastID(); got != 21 {
		t.Errorf("LastID after append = %d, want 21", got)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("log file mode = %v, want 0600", perm)
	}
}

func TestScanManyChunks(t *testing.T) {
	// Large payloads so forward and reverse scans cross several read chunks.
	l := openT(t, tempLogPath(t), Options{NoSync: true})
	defer l.Close()
	const n = 300
	big := make([]byte, 10<<10)
	for id := int64(0); id < n; id++ {
		p := append(payloadFor(id), big...)
		if err := l.Append(id, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.WaitDurable(context.Background(), n-1); err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		var got []int64
		err := l.Scan(0, -1, reverse, func(id int64, p []byte) bool {
			if want := append(payloadFor(id), big...); string(p) != string(want) {
				t.Errorf("id %d: wrong payload", id)
			}
			got = append(got, id)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n || !slices.IsSortedFunc(got, func(a, b int64) int {
			if reverse {
				return int(b - a)
			}
			return int(a - b)
		}) {
			t.Errorf("reverse=%v: got %d ids, order wrong or short", reverse, len(got))
		}
	}
}

func TestPendingIsInvisible(t *testing.T) {
	l := openT(t, tempLogPath(t), Options{})
	if err := l.Append(0, payloadFor(0)); err != nil {
		t.Fatal(err)
	}
	if got := l.LastID(); got != -1 {
		t.Errorf("LastID with only a pending record = %d, want -1", got)
	}
	if got := l.NextID(); got != 1 {
		t.Errorf("NextID with a pending record = %d, want 1", got)
	}
	if _, err := l.Read(0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read of pending record: %v, want ErrNotFound", err)
	}
	if ids := collect(t, l, 0, -1, false, 0); len(ids) != 0 {
		t.Errorf("Scan saw pending records %v", ids)
	}

	// A cancelled waiter returns at once; the record is still written by
	// Close.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.WaitDurable(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDurable with cancelled ctx = %v, want context.Canceled", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, l.Path(), Options{})
	defer l.Close()
	if p, err := l.Read(0); err != nil || string(p) != string(payloadFor(0)) {
		t.Errorf("record pending at Close: Read = %q, %v", p, err)
	}
}

func TestAppendErrors(t *testing.T) {
	l := openT(t, tempLogPath(t), Options{})
	defer l.Close()
	ctx := context.Background()
	if err := l.AppendDurable(ctx, 5, payloadFor(5)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{5, 4} {
		err := l.Append(id, payloadFor(id))
		if err == nil {
			t.Fatalf("Append(%d) after 5 succeeded", id)
		}
		for _, want := range []string{l.Path(), "5", "not greater"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Append(%d) error %q does not mention %q", id, err, want)
			}
		}
	}
	if err := l.Append(-1, nil); err == nil {
		t.Error("Append(-1) succeeded")
	}
	err := l.Append(6, make([]byte, MaxPayload+1))
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("Append of oversized payload = %v, want a size error", err)
	}
	if err := l.WaitDurable(ctx, 99); err == nil || !strings.Contains(err.Error(), "never appended") {
		t.Errorf("WaitDurable of unappended id = %v", err)
	}
	// The rejected appends left the log usable.
	if err := l.AppendDurable(ctx, 6, payloadFor(6)); err != nil {
		t.Fatalf("AppendDurable(6) after rejected appends: %v", err)
	}
	if got := l.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
}

func TestUseAfterClose(t *testing.T) {
	l := openT(t, tempLogPath(t), Options{})
	ctx := context.Background()
	if err := l.AppendDurable(ctx, 0, payloadFor(0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := l.Append(1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if err := l.WaitDurable(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitDurable after Close = %v", err)
	}
	if err := l.AppendDurable(ctx, 1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("AppendDurable after Close = %v", err)
	}
	if _, err := l.Read(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if err := l.Scan(0, -1, false, func(int64, []byte) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Errorf("Scan after Close = %v", err)
	}
}

func TestSecondOpenFails(t *testing.T) {
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	l2, err := Open(path, Options{})
	if err == nil {
		l2.Close()
		t.Fatal("second Open of an open log succeeded")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second Open error %q should name the file and say it is already open", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Close released the lock.
	l = openT(t, path, Options{})
	l.Close()
}

func TestGroupCommit(t *testing.T) {
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	const writers, perWriter = 32, 50
	var (
		mu   sync.Mutex // orders ids, as the real caller does
		next int64
		wg   sync.WaitGroup
	)
	ctx := context.Background()
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range perWriter {
				mu.Lock()
				id := next
				next++
				err := l.Append(id, payloadFor(id))
				mu.Unlock()
				if err == nil {
					err = l.WaitDurable(ctx, id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = writers * perWriter
	syncs := l.syncCount()
	t.Logf("%d records, %d fdatasync calls (%.1f records per sync)", total, syncs, float64(total)/float64(syncs))
	if syncs > total/4 {
		t.Errorf("%d fdatasync calls for %d records: group commit is not batching", syncs, total)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openT(t, path, Options{})
	defer l.Close()
	if got := l.Len(); got != total {
		t.Fatalf("after reopen Len = %d, want %d", got, total)
	}
	ids := collect(t, l, 0, -1, false, 0)
	for i, id := range ids {
		if id != int64(i) {
			t.Fatalf("after reopen record %d has id %d", i, id)
		}
	}
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	l := openT(t, tempLogPath(t), Options{NoSync: true})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for id := int64(0); id < 2000; id++ {
			if err := l.AppendDurable(ctx, id, payloadFor(id)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 50 {
				last := l.LastID()
				if last < 0 {
					continue // to < 0 would mean "up to the end"
				}
				ids := collect(t, l, 0, last, true, 0)
				if int64(len(ids)) != last+1 {
					t.Errorf("scan up to durable id %d saw %d records", last, len(ids))
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestWriteFailureIsSticky swaps the descriptor for a read-only one, so the
// next write fails, and checks that every later call reports that failure.
func TestWriteFailureIsSticky(t *testing.T) {
	path := tempLogPath(t)
	logger, logs := captureLogger()
	l := openT(t, path, Options{Logger: logger})
	ctx := context.Background()
	if err := l.AppendDurable(ctx, 0, payloadFor(0)); err != nil {
		t.Fatal(err)
	}
	orig := l.f
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.f = ro
	defer orig.Close()

	err = l.AppendDurable(ctx, 1, payloadFor(1))
	if err == nil {
		t.Fatal("AppendDurable with a failing write succeeded")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "write") {
		t.Errorf("failure %q should name the path and the failed write", err)
	}
	if !strings.Contains(logs.String(), "event log failed") {
		t.Errorf("failure not logged; log output:\n%s", logs)
	}
	for name, got := range map[string]error{
		"Append":      l.Append(2, payloadFor(2)),
		"WaitDurable": l.WaitDurable(ctx, 1),
	} {
		if got == nil || got.Error() != err.Error() {
			t.Errorf("%s after failure = %v, want the sticky %v", name, got, err)
		}
	}
	// The durable record is still readable, and Close reports the failure.
	if p, rerr := l.Read(0); rerr != nil || string(p) != string(payloadFor(0)) {
		t.Errorf("Read(0) after failure = %q, %v", p, rerr)
	}
	if cerr := l.Close(); cerr == nil || cerr.Error() != err.Error() {
		t.Errorf("Close after failure = %v, want %v", cerr, err)
	}
}

// TestCloseWhileWriting closes the log under running writers: every write
// that was acknowledged must survive, and the rest must fail with ErrClosed.
func TestCloseWhileWriting(t *testing.T) {
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	var (
		mu     sync.Mutex // orders ids, as the real caller does
		next   int64
		ackMu  sync.Mutex // guards acked
		acked  []int64
		wg     sync.WaitGroup
		ctx    = context.Background()
		closed = make(chan struct{})
	)
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				id := next
				next++
				err := l.Append(id, payloadFor(id))
				mu.Unlock()
				if err == nil {
					err = l.WaitDurable(ctx, id)
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("write %d: %v", id, err)
					return
				}
				ackMu.Lock()
				acked = append(acked, id)
				n := len(acked)
				ackMu.Unlock()
				if n == 200 {
					close(closed)
				}
			}
		})
	}
	<-closed
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	l = openT(t, path, Options{})
	defer l.Close()
	for _, id := range acked {
		if p, err := l.Read(id); err != nil || string(p) != string(payloadFor(id)) {
			t.Fatalf("acknowledged id %d after Close: %q, %v", id, p, err)
		}
	}
}
