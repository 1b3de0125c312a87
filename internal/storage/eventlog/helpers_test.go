package eventlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
)

// payloadFor makes a payload that can be checked against its id after a
// crash: a JSON object naming the id, padded to a length that varies with it.
func payloadFor(id int64) []byte {
	pad := bytes.Repeat([]byte{'a' + byte(id%26)}, int(id%97))
	return fmt.Appendf(nil, `{"id":%d,"pad":"%s"}`, id, pad)
}

// syncBuffer is a goroutine-safe bytes.Buffer for capturing slog output.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func captureLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func openT(t *testing.T, path string, opts Options) *Log {
	t.Helper()
	l, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func tempLogPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "conv", "events.log")
}

// collect returns the ids Scan visits.
func collect(t *testing.T, l *Log, from, to int64, reverse bool, limit int) []int64 {
	t.Helper()
	var ids []int64
	err := l.Scan(from, to, reverse, func(id int64, payload []byte) bool {
		if !bytes.Equal(payload, payloadFor(id)) {
			t.Errorf("Scan id %d: payload %q, want %q", id, payload, payloadFor(id))
		}
		ids = append(ids, id)
		return limit <= 0 || len(ids) < limit
	})
	if err != nil {
		t.Fatalf("Scan(%d, %d, %v): %v", from, to, reverse, err)
	}
	return ids
}

func (l *Log) syncCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncs
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
