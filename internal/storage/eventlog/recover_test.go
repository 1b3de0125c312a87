package eventlog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLog creates a log with records 0..n-1 and returns its path and size.
func writeLog(t *testing.T, n int64) (string, int64) {
	t.Helper()
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	for id := int64(0); id < n; id++ {
		if err := l.Append(id, payloadFor(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, info.Size()
}

func TestTornTail(t *testing.T) {
	const n = 10
	lastLen := int64(recordHeaderSize + len(payloadFor(n-1)))
	tests := []struct {
		name string
		// damage changes the file of a log holding records 0..n-1 (of size
		// size) and returns the offset where the tail starts.
		damage   func(t *testing.T, f *os.File, size int64) int64
		keepRecs int64 // records that survive
		zero     bool  // cut bytes are all zero: no sidecar
	}{
		{"partial header", func(t *testing.T, f *os.File, size int64) int64 {
			appendBytes(t, f, appendRecord(nil, n, payloadFor(n))[:9])
			return size
		}, n, false},
		{"partial payload", func(t *testing.T, f *os.File, size int64) int64 {
			rec := appendRecord(nil, n, payloadFor(n))
			appendBytes(t, f, rec[:len(rec)-3])
			return size
		}, n, false},
		{"garbage", func(t *testing.T, f *os.File, size int64) int64 {
			appendBytes(t, f, []byte("this is not a record, it is some text that got here somehow"))
			return size
		}, n, false},
		{"zeros", func(t *testing.T, f *os.File, size int64) int64 {
			appendBytes(t, f, make([]byte, 4096))
			return size
		}, n, true},
		{"flipped crc byte in last record", func(t *testing.T, f *os.File, size int64) int64 {
			flipByte(t, f, size-lastLen+5)
			return size - lastLen
		}, n - 1, false},
		{"flipped payload byte in last record", func(t *testing.T, f *os.File, size int64) int64 {
			flipByte(t, f, size-2)
			return size - lastLen
		}, n - 1, false},
		{"repeated id", func(t *testing.T, f *os.File, size int64) int64 {
			appendBytes(t, f, appendRecord(nil, n-1, payloadFor(n-1)))
			return size
		}, n, false},
		{"impossible length", func(t *testing.T, f *os.File, size int64) int64 {
			rec := appendRecord(nil, n, payloadFor(n))
			rec[3] = 0xff // length far above MaxPayload
			appendBytes(t, f, rec)
			return size
		}, n, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, size := writeLog(t, n)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			cut := tc.damage(t, f, size)
			f.Close()
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			logger, logs := captureLogger()
			l := openT(t, path, Options{Logger: logger})
			defer l.Close()

			if got := l.Len(); int64(got) != tc.keepRecs {
				t.Errorf("Len = %d, want %d", got, tc.keepRecs)
			}
			if ids := collect(t, l, 0, -1, false, 0); int64(len(ids)) != tc.keepRecs {
				t.Errorf("Scan found %d records, want %d", len(ids), tc.keepRecs)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size() != cut {
				t.Errorf("file size after open = %d, want %d (cut at the torn record)", info.Size(), cut)
			}

			out := logs.String()
			sidecar := fmt.Sprintf("%s.torn-%d", path, cut)
			for _, want := range []string{"torn tail", path, fmt.Sprintf("offset=%d", cut), fmt.Sprintf("bytes_cut=%d", int64(len(damaged))-cut)} {
				if !strings.Contains(out, want) {
					t.Errorf("warning does not mention %q; log output:\n%s", want, out)
				}
			}
			saved, err := os.ReadFile(sidecar)
			if tc.zero {
				if err == nil {
					t.Errorf("sidecar %s written for an all-zero tail", sidecar)
				}
			} else {
				if err != nil {
					t.Fatalf("sidecar: %v", err)
				}
				if !bytes.Equal(saved, damaged[cut:]) {
					t.Errorf("sidecar holds %d bytes, want the %d cut bytes", len(saved), len(damaged)-int(cut))
				}
				if !strings.Contains(out, "sidecar="+sidecar) {
					t.Errorf("warning does not name the sidecar; log output:\n%s", out)
				}
			}

			// The log works after the cut, and the cut is durable.
			next := l.NextID()
			if next != tc.keepRecs {
				t.Errorf("NextID = %d, want %d", next, tc.keepRecs)
			}
			for id := next; id < next+3; id++ {
				if err := l.AppendDurable(context.Background(), id, payloadFor(id)); err != nil {
					t.Fatalf("AppendDurable(%d) after cut: %v", id, err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			logger2, logs2 := captureLogger()
			l2 := openT(t, path, Options{Logger: logger2})
			defer l2.Close()
			if got := l2.Len(); int64(got) != tc.keepRecs+3 {
				t.Errorf("Len after append and reopen = %d, want %d", got, tc.keepRecs+3)
			}
			if strings.Contains(logs2.String(), "torn") {
				t.Errorf("second reopen found a torn tail again:\n%s", logs2)
			}
		})
	}
}

// TestTornTwiceAtSameOffset checks that a second tear at the same offset
// keeps the first sidecar instead of overwriting it.
func TestTornTwiceAtSameOffset(t *testing.T) {
	path, size := writeLog(t, 3)
	for round, junk := range []string{"first junk", "second junk"} {
		if err := os.WriteFile(path, append(mustRead(t, path)[:size], junk...), 0o600); err != nil {
			t.Fatal(err)
		}
		l := openT(t, path, Options{Logger: discardLogger()})
		l.Close()
		name := fmt.Sprintf("%s.torn-%d", path, size)
		if round > 0 {
			name += ".1"
		}
		if got := string(mustRead(t, name)); got != junk {
			t.Errorf("round %d: sidecar %s = %q, want %q", round, name, got, junk)
		}
	}
}

func TestForeignFileUntouched(t *testing.T) {
	tests := map[string][]byte{
		"json":            []byte(`{"id": 1, "message": "hello"}` + "\n"),
		"short":           []byte("{}\n"),
		"other version":   []byte("GHEVLOG9" + strings.Repeat("x", 40)),
		"header with nul": append([]byte("GHE\x00"), make([]byte, 20)...),
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.log")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := Open(path, Options{Logger: discardLogger()})
			if err == nil {
				l.Close()
				t.Fatal("Open of a foreign file succeeded")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if got := mustRead(t, path); !bytes.Equal(got, content) {
				t.Errorf("foreign file changed:\n got %q\nwant %q", got, content)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("Open left files beside the foreign file: %v", entries)
			}
		})
	}
}

func TestEmptyAndHalfHeaderFiles(t *testing.T) {
	for _, content := range []string{"", "GHEV"} {
		path := filepath.Join(t.TempDir(), "events.log")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		l := openT(t, path, Options{Logger: discardLogger()})
		if err := l.AppendDurable(context.Background(), 0, payloadFor(0)); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l = openT(t, path, Options{})
		if got := l.Len(); got != 1 {
			t.Errorf("file %q: Len after append and reopen = %d, want 1", content, got)
		}
		l.Close()
	}
}

func appendBytes(t *testing.T, f *os.File, b []byte) {
	t.Helper()
	if _, err := f.Seek(0, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, f *os.File, off int64) {
	t.Helper()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPreallocatedTailAfterCrash drops a log without Close, as a crash
// would, leaving zero padding after the last record: reopen cuts it quietly
// (no sidecar) and keeps every record; a clean Close leaves no padding.
func TestPreallocatedTailAfterCrash(t *testing.T) {
	path := tempLogPath(t)
	l := openT(t, path, Options{})
	const n = 1000
	pad := strings.Repeat(" ", 400) // so n records cross a preallocation boundary
	for id := int64(0); id < n; id++ {
		if err := l.AppendDurable(context.Background(), id, append(payloadFor(id), pad...)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size()%preallocChunk != 0 || info.Size() <= preallocChunk {
		t.Errorf("open log is %d bytes, want a multiple of %d above one chunk", info.Size(), preallocChunk)
	}
	l.f.Close() // the crash: no final sync, no trim

	logger, logs := captureLogger()
	l = openT(t, path, Options{Logger: logger})
	if got := l.Len(); got != n {
		t.Errorf("Len after crash = %d, want %d", got, n)
	}
	if !strings.Contains(logs.String(), "zero bytes") {
		t.Errorf("zero tail cut not logged:\n%s", logs)
	}
	if matches, _ := filepath.Glob(path + ".torn-*"); len(matches) != 0 {
		t.Errorf("zero tail left sidecars %v", matches)
	}
	end := l.durableEnd
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	info, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != end {
		t.Errorf("after Close the file is %d bytes, want %d (records only)", info.Size(), end)
	}
}
