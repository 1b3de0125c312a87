package events

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// benchEvent is a typical run observation of about 500 bytes once serialized.
func benchEvent() *Event {
	wd := "/workspace"
	cause := int64(7)
	ev := NewObservation(&CmdOutputObservation{Command: "ls -la /workspace",
		Metadata: CmdOutputMetadata{ExitCode: 0, PID: -1, WorkingDir: &wd, Suffix: "\n[The command completed with exit code 0.]"}},
		strings.Repeat("drwxr-xr-x 2 openhands openhands 4096 file.txt\n", 6))
	ev.Cause = &cause
	return ev
}

// BenchmarkStreamAppend measures durable appends (fsync on) through the Stream: id assignment,
// encoding, the log's group commit, then publication. conversations × writers goroutines append
// concurrently; each conversation is its own stream and log file.
func BenchmarkStreamAppend(b *testing.B) {
	for _, c := range []struct{ convs, writers int }{{1, 1}, {1, 64}, {64, 1}, {64, 4}} {
		b.Run(fmt.Sprintf("conversations=%d/writers=%d", c.convs, c.writers), func(b *testing.B) {
			dir := b.TempDir()
			streams := make([]*Stream, c.convs)
			for i := range streams {
				streams[i] = openStream(b, filepath.Join(dir, fmt.Sprint(i), "events.log"), StreamOptions{})
			}
			total := c.convs * c.writers
			per := b.N/total + 1
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range total {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := streams[w%c.convs]
					for range per {
						if _, err := s.Append(context.Background(), benchEvent(), SourceAgent); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(per*total)/elapsed.Seconds(), "events/s")
			for _, s := range streams {
				s.Close()
			}
		})
	}
}

// BenchmarkReplay10k replays all 10,000 events of a conversation: "raw" as a reconnecting client
// gets them (stored JSON with its envelope fields), "decoded" as a restarted agent rebuilding its
// history gets them (every event decoded to Go values).
func BenchmarkReplay10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "events.log")
	log, err := eventlog.Open(path, eventlog.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	s := NewStream("bench", log, StreamOptions{})
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				ev := benchEvent()
				if w%2 == 0 {
					ev = NewAction(&CmdRunAction{Command: "ls -la /workspace", Thought: "Let me look at the files.", ConfirmationState: ConfirmationConfirmed})
				}
				s.Append(context.Background(), ev, SourceAgent)
			}
		}()
	}
	wg.Wait()
	s.Close()
	s = openStream(b, path, StreamOptions{})
	defer s.Close()
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for ev, err := range s.Replay(context.Background(), 0) {
				if err != nil || ev.Type == "" {
					b.Fatal(err)
				}
				n++
			}
			if n != 10000 {
				b.Fatalf("replayed %d events", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/replay")
	})
	b.Run("decoded", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, err := range s.Search(context.Background(), All) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != 10000 {
				b.Fatalf("replayed %d events", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/replay")
	})
}
