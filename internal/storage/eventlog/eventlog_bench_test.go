package eventlog

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchPayload is a ~400-byte event, the size of a typical OpenHands action
// or observation.
var benchPayload = []byte(`{"id":0,"timestamp":"2025-01-01T00:00:00.000000","source":"agent","message":"Running command: ls -la","action":"run","args":{"command":"ls -la /workspace","is_input":false,"thought":"` +
	strings.Repeat("x", 220) + `","blocking":false,"hidden":false,"confirmation_state":"confirmed"}}`)

// BenchmarkAppendDurable measures acknowledged events per second: every
// writer loops Append (under a per-log mutex that fixes the id order, as the
// real caller does) then WaitDurable. b.N events are shared by all writers.
func BenchmarkAppendDurable(b *testing.B) {
	cases := []struct{ logs, writers int }{{1, 1}, {1, 64}, {64, 1}, {64, 4}}
	for _, c := range cases {
		b.Run(fmt.Sprintf("logs=%d/writers=%d", c.logs, c.writers), func(b *testing.B) {
			benchAppend(b, c.logs, c.writers, Options{})
		})
	}
}

// BenchmarkAppendNoSync is BenchmarkAppendDurable without fdatasync: the cost
// of the write path alone, and the like-for-like match for a store that does
// not sync.
func BenchmarkAppendNoSync(b *testing.B) {
	cases := []struct{ logs, writers int }{{1, 1}, {64, 1}}
	for _, c := range cases {
		b.Run(fmt.Sprintf("logs=%d/writers=%d", c.logs, c.writers), func(b *testing.B) {
			benchAppend(b, c.logs, c.writers, Options{NoSync: true})
		})
	}
}

// BenchmarkAppendJournal is BenchmarkAppendDurable with the logs made durable through one shared
// journal, as a store does: one fdatasync for every log waiting.
func BenchmarkAppendJournal(b *testing.B) {
	cases := []struct{ logs, writers int }{{1, 1}, {1, 64}, {64, 1}, {64, 4}}
	for _, c := range cases {
		b.Run(fmt.Sprintf("logs=%d/writers=%d", c.logs, c.writers), func(b *testing.B) {
			benchAppend(b, c.logs, c.writers, Options{Journal: benchJournal})
		})
	}
}

// benchJournal marks the options of a run that opens its own journal in its directory.
var benchJournal = &Journal{}

func benchAppend(b *testing.B, nlogs, writers int, opts Options) {
	dir := b.TempDir()
	opts.Logger = discardLogger()
	if opts.Journal == benchJournal {
		j, err := OpenJournal(dir, JournalOptions{Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		opts.Journal = j
	}
	type target struct {
		l    *Log
		mu   sync.Mutex // orders ids for this log's writers
		next int64
	}
	targets := make([]*target, nlogs)
	for i := range targets {
		l, err := Open(filepath.Join(dir, fmt.Sprintf("conv-%d", i), "events.log"), opts)
		if err != nil {
			b.Fatal(err)
		}
		targets[i] = &target{l: l}
	}
	defer func() {
		for _, tg := range targets {
			tg.l.Close()
		}
	}()

	ctx := context.Background()
	var (
		remaining atomic.Int64
		wg        sync.WaitGroup
		failed    atomic.Value
	)
	remaining.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	for _, tg := range targets {
		for range writers {
			wg.Go(func() {
				for remaining.Add(-1) >= 0 {
					tg.mu.Lock()
					id := tg.next
					tg.next++
					err := tg.l.Append(id, benchPayload)
					tg.mu.Unlock()
					if err == nil {
						err = tg.l.WaitDurable(ctx, id)
					}
					if err != nil {
						failed.Store(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	var syncs int64
	for _, tg := range targets {
		syncs += tg.l.syncCount()
	}
	if j := opts.Journal; j != nil {
		j.mu.Lock()
		syncs += j.syncs
		j.mu.Unlock()
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if syncs > 0 {
		b.ReportMetric(float64(b.N)/float64(syncs), "events/sync")
	}
}

// BenchmarkScan10k measures a full forward scan of 10,000 ~500-byte records,
// the cost of replaying a long conversation to a reconnecting client.
func BenchmarkScan10k(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "events.log"), Options{NoSync: true, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	payload := append(append([]byte{}, benchPayload...), strings.Repeat("y", 500-len(benchPayload))...)
	const n = 10_000
	for id := int64(0); id < n; id++ {
		if err := l.Append(id, payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.WaitDurable(context.Background(), n-1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n * len(payload)))
	b.ResetTimer()
	start := time.Now()
	scans := 0
	for b.Loop() {
		count := 0
		if err := l.Scan(0, -1, false, func(int64, []byte) bool { count++; return true }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("scan saw %d records, want %d", count, n)
		}
		scans++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(scans), "ms/scan")
}
