package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// ErrNotFound is returned by Read for an id that has no durable record.
var ErrNotFound = errors.New("eventlog: record not found")

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("eventlog: log is closed")

// Options tune a Log. The zero value is the production setting.
type Options struct {
	Logger *slog.Logger // nil → slog.Default()
	NoSync bool         // skip fsync (only for benchmarks that compare against fsync-on; never default)
	// Journal, when set, makes batches durable through the store's shared journal (one
	// fdatasync for many logs) instead of an fdatasync of this file. The log's path must be under
	// the journal's root.
	Journal *Journal
}

// preallocChunk is how far ahead of the data the file is extended with
// zeros. Overwriting blocks that are already allocated and written lets
// fdatasync skip the filesystem journal commit that a growing file size
// needs: on ext4 on a virtual disk this made one sync about a third faster
// (median 223 µs against 334 µs in an interleaved A/B). A crash leaves at
// most this many zero bytes after the last record, which Open cuts without
// a sidecar; Close trims them.
const preallocChunk = 256 << 10

// maxSpare bounds the write buffer kept for reuse between syncs, so one burst
// of huge payloads does not pin its memory for the life of the log.
const maxSpare = 4 << 20

// Log is one open event log file. All methods are safe for concurrent use.
type Log struct {
	path   string
	logger *slog.Logger
	noSync bool
	// journal, rel and ino: see Options.Journal; rel is the path relative to the journal's root,
	// ino the file's inode number (so a replay never writes into a file that replaced this one).
	journal *Journal
	rel     string
	ino     uint64
	// f is set by Open and closed by Close after the last sync. Only the sync
	// leader writes to it (at durableEnd, outside mu); readers use ReadAt.
	f *os.File

	// mu guards every field below. It is never held during file I/O, so
	// Append stays cheap while a sync is in flight.
	mu sync.Mutex
	// index holds the durable records in ascending id order. It is only
	// ever appended to and its elements are never modified, so readers may
	// keep a snapshot of the slice header and use it without mu.
	index []entry
	// durableEnd is the file offset just past the last durable record; the
	// next sync writes there.
	durableEnd int64
	// allocEnd is the file size: durableEnd plus zero padding written
	// ahead of the data (see preallocChunk).
	allocEnd int64
	// appendEnd is the offset just past the last appended record (durable,
	// in flight or pending): where the next appended record will land.
	appendEnd int64
	// lastAppended is the id of the last appended record, -1 when none.
	lastAppended int64
	// pending holds encoded records not yet handed to a sync leader, and
	// pendingIdx their locations.
	pending    []byte
	pendingIdx []entry
	// spare and spareIdx are the buffers of the previous sync, kept so the
	// steady state does not allocate.
	spare    []byte
	spareIdx []entry
	// syncing is true while a leader writes and syncs outside mu; syncDone
	// is closed when that sync finishes (successfully or not).
	syncing  bool
	syncDone chan struct{}
	// failed is the sticky error of a failed write or fdatasync.
	failed error
	// closing is set when Close starts (no more appends); closed when the
	// file is closed (no more calls at all).
	closing bool
	closed  bool
	// syncs counts fdatasync calls made for appended records (tests use it
	// to check that group commit batches).
	syncs int64
}

// Open opens or creates the log at path (creating parent directories 0700,
// file 0600). It verifies every record, cuts a torn tail (keeping non-zero cut
// bytes in a sidecar file), builds the in-memory index, and takes an exclusive
// flock so a second Open of the same file fails with a clear error.
func Open(path string, opts Options) (*Log, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("eventlog %s: create directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("eventlog %s: open: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("eventlog %s: already open (locked by another process or another Log in this process): %w", path, err)
	}
	l := &Log{
		path:         path,
		logger:       logger,
		noSync:       opts.NoSync,
		journal:      opts.Journal,
		f:            f,
		lastAppended: -1,
	}
	if j := opts.Journal; j != nil {
		rel, err := filepath.Rel(j.root, path)
		if err != nil || !filepath.IsLocal(rel) || len(rel) > 1<<16-1 {
			f.Close()
			return nil, fmt.Errorf("eventlog %s: not under the journal's root %s", path, j.root)
		}
		l.rel, l.ino = rel, fileIno(f)
	}
	if err := l.load(); err != nil {
		f.Close() // releases the flock
		return nil, err
	}
	return l, nil
}

// Path returns the path of the log file.
func (l *Log) Path() string { return l.path }

// Append enqueues one record. It is not durable until WaitDurable returns for
// its id (or a later one). Ids must be non-negative and strictly increasing.
// Append makes no syscall, so callers may hold their own lock around it to fix
// the order of ids. The payload is copied; the caller may reuse its slice.
func (l *Log) Append(id int64, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("eventlog %s: append id %d: payload of %d bytes exceeds the limit of %d", l.path, id, len(payload), MaxPayload)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return ErrClosed
	}
	if l.failed != nil {
		return l.failed
	}
	if id < 0 {
		return fmt.Errorf("eventlog %s: append id %d: ids must be non-negative", l.path, id)
	}
	if id <= l.lastAppended {
		return fmt.Errorf("eventlog %s: append id %d: not greater than the last appended id %d", l.path, id, l.lastAppended)
	}
	l.pending = appendRecord(l.pending, id, payload)
	l.pendingIdx = append(l.pendingIdx, entry{id: id, off: l.appendEnd, n: uint32(len(payload))})
	l.appendEnd += recordHeaderSize + int64(len(payload))
	l.lastAppended = id
	return nil
}

// WaitDurable blocks until record id (and so every earlier one) is written and
// fdatasync'ed. If ctx ends first it returns ctx.Err(); the record is still
// written by a later sync or by Close.
func (l *Log) WaitDurable(ctx context.Context, id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	for {
		if l.failed != nil {
			return l.failed
		}
		if n := len(l.index); n > 0 && l.index[n-1].id >= id {
			return nil
		}
		if id > l.lastAppended {
			if l.closing {
				return ErrClosed
			}
			return fmt.Errorf("eventlog %s: wait for id %d: never appended (last appended id %d)", l.path, id, l.lastAppended)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !l.syncing {
			// Our record is pending and nobody is syncing: lead.
			l.syncLocked()
			continue
		}
		done := l.syncDone
		l.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		l.mu.Lock()
	}
}

// AppendDurable is Append followed by WaitDurable.
func (l *Log) AppendDurable(ctx context.Context, id int64, payload []byte) error {
	if err := l.Append(id, payload); err != nil {
		return err
	}
	return l.WaitDurable(ctx, id)
}

// syncLocked makes the current leader write every pending byte with one write
// and one fdatasync. It is called with mu held, no sync in flight and pending
// records; it releases mu during the I/O and holds it again on return.
func (l *Log) syncLocked() {
	buf, idx := l.pending, l.pendingIdx
	l.pending, l.pendingIdx = l.spare[:0], l.spareIdx[:0]
	l.spare, l.spareIdx = nil, nil
	off := l.durableEnd
	dataEnd := off + int64(len(buf))
	allocEnd := l.allocEnd
	var pad []byte
	if dataEnd > allocEnd {
		// Extend before the same sync: zeros up to the next chunk boundary, from one shared
		// read-only buffer (appending them to buf made every open log keep a chunk-sized buffer).
		allocEnd = (dataEnd/preallocChunk + 1) * preallocChunk
		pad = zeroChunk[:allocEnd-dataEnd]
	}
	done := make(chan struct{})
	l.syncing, l.syncDone = true, done
	if !l.noSync && l.journal == nil {
		l.syncs++
	}
	l.mu.Unlock()

	err := l.writeAndSync(buf, pad, off)

	l.mu.Lock()
	if err != nil {
		l.failed = fmt.Errorf("eventlog %s: log failed, on-disk state unknown: %w", l.path, err)
		l.logger.Error("event log failed", "path", l.path, "offset", off, "bytes", len(buf), "err", err)
	} else {
		l.index = append(l.index, idx...)
		l.durableEnd, l.allocEnd = dataEnd, allocEnd
	}
	if cap(buf) <= maxSpare {
		l.spare, l.spareIdx = buf[:0], idx[:0]
	}
	l.syncing, l.syncDone = false, nil
	close(done)
}

// zeroChunk is the padding written when the file grows; never written to.
var zeroChunk = make([]byte, preallocChunk)

func (l *Log) writeAndSync(buf, pad []byte, off int64) error {
	if _, err := l.f.WriteAt(buf, off); err != nil {
		return fmt.Errorf("write %d bytes at offset %d: %w", len(buf), off, err)
	}
	if len(pad) > 0 {
		if _, err := l.f.WriteAt(pad, off+int64(len(buf))); err != nil {
			return fmt.Errorf("extend the file by %d bytes at offset %d: %w", len(pad), off+int64(len(buf)), err)
		}
	}
	if l.journal != nil {
		return l.journal.commit(l, off, buf)
	}
	if l.noSync {
		return nil
	}
	if err := datasync(l.f); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	return nil
}

// syncFile makes what the log wrote to its file durable there, for the journal's checkpoint. A
// log closed meanwhile synced itself in Close.
func (l *Log) syncFile() error {
	err := datasync(l.f)
	if err == nil {
		return nil
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil // Close synced the file before closing it ("use of closed file")
	}
	return fmt.Errorf("eventlog %s: fdatasync: %w", l.path, err)
}

// LastID returns the id of the last durable record, -1 when there is none.
func (l *Log) LastID() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.index); n > 0 {
		return l.index[n-1].id
	}
	return -1
}

// NextID returns the last appended (pending or durable) id + 1, 0 when the
// log is empty: the id to give the next record, also after a reopen.
func (l *Log) NextID() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAppended + 1
}

// Len returns the number of durable records.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}

// Close makes pending records durable with one last sync, releases the lock
// and closes the file. It returns the log's failure, if any, because then
// pending records were not made durable. Calls after the first return
// ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closing = true
	for {
		if l.syncing {
			done := l.syncDone
			l.mu.Unlock()
			<-done
			l.mu.Lock()
			continue
		}
		if l.failed != nil || len(l.pending) == 0 {
			break
		}
		l.syncLocked()
	}
	l.closed = true
	failed := l.failed
	trim := failed == nil && l.allocEnd > l.durableEnd
	end := l.durableEnd
	l.mu.Unlock()

	var terr error
	if trim {
		// Leave a clean file: only the header and records.
		terr = l.f.Truncate(end)
		if terr == nil && !l.noSync {
			terr = l.f.Sync()
		}
		if terr != nil {
			terr = fmt.Errorf("eventlog %s: trim preallocated space: %w", l.path, terr)
		}
	} else if l.journal != nil && failed == nil && !l.noSync {
		// The journal's frames for this log are no longer kept in mind: make the file hold them.
		if terr = l.f.Sync(); terr != nil {
			terr = fmt.Errorf("eventlog %s: sync: %w", l.path, terr)
		}
	}
	if l.journal != nil {
		l.journal.forget(l)
	}
	// Closing the descriptor releases the flock. Concurrent ReadAt calls
	// are safe: os.File keeps the descriptor alive until they return.
	cerr := l.f.Close()
	if failed != nil {
		return failed
	}
	if cerr != nil {
		return fmt.Errorf("eventlog %s: close: %w", l.path, cerr)
	}
	return terr
}
