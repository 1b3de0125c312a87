package eventlog

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Why a journal of our own: durability across many files needs one fdatasync per file with
// per-file group commit (what a Log does alone). Sharing one sequential file between all logs of a
// store turns those into one fdatasync for every log waiting. No pure-Go library offers a
// write-ahead log that points into other files; embedded databases (bbolt, badger, pebble) would
// replace the log format rather than make it durable.

// JournalOptions tune a Journal. The zero value is the production setting.
type JournalOptions struct {
	Logger *slog.Logger // nil → slog.Default()
	// SegmentSize is how large a segment grows before the journal moves to a new one and retires
	// the old one (syncs the logs it covers, then removes it). Default 64 MiB.
	SegmentSize int64
	NoSync      bool // skip fdatasync (benchmarks only)
}

// ErrJournalClosed is returned by a journal-backed Log whose Journal was closed.
var ErrJournalClosed = errors.New("eventlog: journal is closed")

const (
	journalMagic      = "GHJOURN1" // segment header: magic and format version
	frameHeaderSize   = 8          // length:u32 crc:u32
	frameFixedSize    = 8 + 8 + 2  // ino:u64 off:i64 pathLen:u16
	defaultSegmentMax = 64 << 20
)

// Journal is the write-ahead file shared by the logs of one store. A journal-backed Log writes a
// batch to its own file without syncing it, then commits a frame holding the same bytes here;
// the frame's fdatasync makes the batch durable, and one fdatasync covers the frames of every log
// that was waiting. Segments are retired once the log files they cover are synced; after a crash
// OpenJournal replays the segments left behind into the log files.
type Journal struct {
	root    string // logs live under root; frames name them relative to it
	dir     string // root/journal
	logger  *slog.Logger
	segSize int64
	noSync  bool

	// mu guards every field below; never held during I/O.
	mu          sync.Mutex
	seg         *segment
	pending     []byte // encoded frames not yet written
	pendingLogs []*Log // the logs those frames belong to
	spare       []byte
	nextSeq     int64 // sequence number of the last frame queued
	durableSeq  int64 // frames with seq <= durableSeq are durable
	syncing     bool
	syncDone    chan struct{}
	failed      error
	closed      bool
	retiring    sync.WaitGroup
	syncs       int64 // fdatasyncs of segments (tests)
}

// segment is one journal file and the logs that have frames in it.
type segment struct {
	f     *os.File
	path  string
	size  int64 // end of the last frame written
	alloc int64 // file size: size plus zeros written ahead (see preallocChunk)
	logs  map[*Log]struct{}
}

// OpenJournal opens the journal of the store at root: it first replays and removes every segment
// in root/journal that no live process holds (a crash left it), then starts a segment of its own.
// Call it before opening any log of the store.
func OpenJournal(root string, opts JournalOptions) (*Journal, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentMax
	}
	j := &Journal{root: root, dir: filepath.Join(root, "journal"), logger: opts.Logger,
		segSize: opts.SegmentSize, noSync: opts.NoSync}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: create directory: %w", j.dir, err)
	}
	if err := j.recover(); err != nil {
		return nil, err
	}
	seg, err := j.newSegment()
	if err != nil {
		return nil, err
	}
	j.seg = seg
	return j, nil
}

// newSegment creates, locks and syncs a new segment file named so that names sort in creation
// order across processes.
func (j *Journal) newSegment() (*segment, error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	name := fmt.Sprintf("%020d-%s.wal", time.Now().UnixNano(), hex.EncodeToString(rnd[:]))
	path := filepath.Join(j.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: create segment: %w", err)
	}
	fail := func(err error) (*segment, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("journal: create segment %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt([]byte(journalMagic), 0); err != nil {
		return fail(err)
	}
	if !j.noSync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		if err := syncDir(j.dir); err != nil {
			return fail(err)
		}
	}
	n := int64(len(journalMagic))
	return &segment{f: f, path: path, size: n, alloc: n, logs: map[*Log]struct{}{}}, nil
}

// appendFrame encodes one frame: length:u32 crc:u32 ino:u64 off:i64 pathLen:u16 path data, where
// length counts the bytes after the crc and the crc (CRC-32C) covers the length and those bytes.
func appendFrame(buf []byte, rel string, ino uint64, off int64, data []byte) []byte {
	start := len(buf)
	n := frameFixedSize + len(rel) + len(data)
	buf = slices.Grow(buf, frameHeaderSize+n)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	buf = append(buf, 0, 0, 0, 0) // crc, below
	buf = binary.LittleEndian.AppendUint64(buf, ino)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(off))
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(rel)))
	buf = append(buf, rel...)
	buf = append(buf, data...)
	c := crc32.Update(0, castagnoli, buf[start:start+4])
	c = crc32.Update(c, castagnoli, buf[start+frameHeaderSize:])
	binary.LittleEndian.PutUint32(buf[start+4:], c)
	return buf
}

// commit makes data, already written at off in l's file, durable through the journal: it queues
// a frame and returns once a journal sync has covered it.
func (j *Journal) commit(l *Log, off int64, data []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrJournalClosed
	}
	if j.failed != nil {
		return j.failed
	}
	j.pending = appendFrame(j.pending, l.rel, l.ino, off, data)
	j.pendingLogs = append(j.pendingLogs, l)
	j.nextSeq++
	seq := j.nextSeq
	for {
		if j.durableSeq >= seq {
			return nil
		}
		if j.failed != nil {
			return j.failed
		}
		if !j.syncing {
			j.syncLocked()
			continue
		}
		done := j.syncDone
		j.mu.Unlock()
		<-done
		j.mu.Lock()
	}
}

// syncLocked writes every pending frame with one write and one fdatasync of the segment, then
// rotates the segment when it is full. Called with mu held and no sync in flight; releases mu
// during the I/O.
func (j *Journal) syncLocked() {
	buf, logs, seq, seg := j.pending, j.pendingLogs, j.nextSeq, j.seg
	j.pending, j.pendingLogs, j.spare = j.spare[:0], nil, nil
	done := make(chan struct{})
	j.syncing, j.syncDone = true, done
	if !j.noSync {
		j.syncs++
	}
	off, alloc := seg.size, seg.alloc
	j.mu.Unlock()

	// Like a log, the segment is extended with zeros ahead of the frames, so that most syncs
	// overwrite allocated blocks and need no filesystem journal commit.
	var pad []byte
	if end := off + int64(len(buf)); end > alloc {
		alloc = (end/preallocChunk + 1) * preallocChunk
		pad = zeroChunk[:alloc-end]
	}
	err := j.writeAndSync(seg.f, buf, pad, off)
	var next *segment
	if err == nil && off+int64(len(buf)) >= j.segSize {
		next, err = j.newSegment()
	}

	j.mu.Lock()
	if err != nil {
		j.failed = fmt.Errorf("eventlog journal %s: failed, on-disk state unknown: %w", seg.path, err)
		j.logger.Error("event journal failed", "segment", seg.path, "err", err)
	} else {
		j.durableSeq = seq
		seg.size, seg.alloc = off+int64(len(buf)), alloc
		for _, l := range logs {
			seg.logs[l] = struct{}{}
		}
		if next != nil {
			j.seg = next
			j.retiring.Add(1)
			go j.retire(seg)
		}
	}
	if cap(buf) <= maxSpare {
		j.spare = buf[:0]
	}
	j.syncing, j.syncDone = false, nil
	close(done)
}

func (j *Journal) writeAndSync(f *os.File, buf, pad []byte, off int64) error {
	if _, err := f.WriteAt(buf, off); err != nil {
		return fmt.Errorf("write %d bytes at offset %d: %w", len(buf), off, err)
	}
	if len(pad) > 0 {
		if _, err := f.WriteAt(pad, off+int64(len(buf))); err != nil {
			return fmt.Errorf("extend by %d bytes: %w", len(pad), err)
		}
	}
	if j.noSync {
		return nil
	}
	if err := datasync(f); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	return nil
}

// retire syncs every log file that has frames in seg, then removes seg: its frames are no longer
// needed. A log closed meanwhile synced itself in Close.
func (j *Journal) retire(seg *segment) {
	defer j.retiring.Done()
	if err := j.checkpoint(seg); err != nil {
		j.mu.Lock()
		if j.failed == nil {
			j.failed = fmt.Errorf("eventlog journal: retire %s: %w", seg.path, err)
		}
		j.mu.Unlock()
		j.logger.Error("event journal segment could not be retired; it stays for replay", "segment", seg.path, "err", err)
		seg.f.Close()
	}
}

// checkpoint syncs the logs of seg and removes it.
func (j *Journal) checkpoint(seg *segment) error {
	j.mu.Lock()
	logs := make([]*Log, 0, len(seg.logs))
	for l := range seg.logs {
		logs = append(logs, l)
	}
	j.mu.Unlock()
	if !j.noSync {
		for _, l := range logs {
			if err := l.syncFile(); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(seg.path); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if !j.noSync {
		if err := syncDir(j.dir); err != nil {
			return err
		}
	}
	return seg.f.Close()
}

// forget drops a closing log from the segments' sets: Close syncs its file itself.
func (j *Journal) forget(l *Log) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seg != nil {
		delete(j.seg.logs, l)
	}
}

// Close waits for the sync and the retirements in flight, then retires the current segment: the
// logs still open are synced and the segment removed. Logs used after Close fail with
// ErrJournalClosed.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	for j.failed == nil && (j.syncing || len(j.pending) > 0) {
		if !j.syncing {
			j.syncLocked() // frames queued before Close are still made durable
			continue
		}
		done := j.syncDone
		j.mu.Unlock()
		<-done
		j.mu.Lock()
	}
	seg, failed := j.seg, j.failed
	j.mu.Unlock()
	j.retiring.Wait()
	if failed != nil {
		seg.f.Close() // the segment stays, to be replayed
		return failed
	}
	if err := j.checkpoint(seg); err != nil {
		seg.f.Close()
		return fmt.Errorf("eventlog journal: close: %w", err)
	}
	return nil
}

// recover replays and removes every segment no live process holds, oldest first.
func (j *Journal) recover() error {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	for _, e := range entries { // ReadDir sorts by name: creation order
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".wal") {
			continue
		}
		if err := j.replaySegment(filepath.Join(j.dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// replaySegment applies the frames of one segment left by a process that is gone.
func (j *Journal) replaySegment(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // another process replayed it meanwhile
	}
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	defer f.Close()
	if lockFile(f) != nil {
		return nil // its owner is alive
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("journal: read %s: %w", path, err)
	}
	if len(data) > 0 && !strings.HasPrefix(string(data), journalMagic) &&
		!strings.HasPrefix(journalMagic, string(data)) {
		return fmt.Errorf("journal: %s is not a journal segment; refusing to touch it", path)
	}
	r := replayer{j: j, files: map[string]*replayFile{}}
	defer r.closeAll()
	frames, torn := 0, false
	for rest := data[min(len(data), len(journalMagic)):]; len(rest) > 0; frames++ {
		if len(bytes.Trim(rest, "\x00")) == 0 {
			break // the zeros written ahead of the frames
		}
		n, ok := r.apply(rest)
		if !ok {
			torn = true
			break
		}
		rest = rest[n:]
	}
	if err := r.syncAll(); err != nil {
		return fmt.Errorf("journal: replay %s: %w", path, err)
	}
	j.logger.Info("replayed an event journal segment left by a crash", "segment", path, "frames", frames,
		"torn_tail", torn, "logs", len(r.files), "skipped", r.skipped)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("journal: remove replayed %s: %w", path, err)
	}
	return syncDir(j.dir)
}

// replayer applies frames to log files, opening each once.
type replayer struct {
	j       *Journal
	files   map[string]*replayFile
	skipped int
}

type replayFile struct {
	f    *os.File // nil: frames for this path are skipped
	why  string
	dirt bool
}

// apply applies the frame at the start of b and returns its size; ok is false for a torn or
// corrupt frame, which ends the segment.
func (r *replayer) apply(b []byte) (int, bool) {
	if len(b) < frameHeaderSize+frameFixedSize {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[0:4]))
	if n < frameFixedSize || n > MaxPayload+frameFixedSize+1<<16 || len(b) < frameHeaderSize+n {
		return 0, false
	}
	body := b[frameHeaderSize : frameHeaderSize+n]
	c := crc32.Update(0, castagnoli, b[0:4])
	if crc32.Update(c, castagnoli, body) != binary.LittleEndian.Uint32(b[4:8]) {
		return 0, false
	}
	ino := binary.LittleEndian.Uint64(body[0:8])
	off := int64(binary.LittleEndian.Uint64(body[8:16]))
	pl := int(binary.LittleEndian.Uint16(body[16:18]))
	if frameFixedSize+pl > n {
		return 0, false
	}
	rel, data := string(body[18:18+pl]), body[18+pl:]
	rf := r.file(rel, ino)
	if rf.f == nil {
		r.skipped++
		return frameHeaderSize + n, true
	}
	if _, err := rf.f.WriteAt(data, off); err != nil {
		rf.why = fmt.Sprintf("write: %v", err)
		r.j.logger.Error("journal replay could not write to an event log", "log", rel, "err", err)
		rf.f.Close()
		rf.f = nil
	} else {
		rf.dirt = true
	}
	return frameHeaderSize + n, true
}

// file opens the log a frame names, or records why its frames are skipped.
func (r *replayer) file(rel string, ino uint64) *replayFile {
	if rf, ok := r.files[rel]; ok {
		return rf
	}
	rf := &replayFile{}
	r.files[rel] = rf
	if !filepath.IsLocal(rel) {
		rf.why = "path outside the store"
		r.j.logger.Warn("journal frame names a path outside the store; skipped", "path", rel)
		return rf
	}
	f, err := os.OpenFile(filepath.Join(r.j.root, rel), os.O_WRONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rf.why = "deleted"
		r.j.logger.Debug("journal frames for a deleted event log skipped", "log", rel)
		return rf
	case err != nil:
		rf.why = err.Error()
		r.j.logger.Error("journal replay could not open an event log", "log", rel, "err", err)
		return rf
	}
	if got := fileIno(f); ino != 0 && got != 0 && got != ino {
		f.Close()
		rf.why = "replaced"
		r.j.logger.Warn("journal frames for an event log that was replaced since; skipped", "log", rel)
		return rf
	}
	if err := lockFile(f); err != nil {
		f.Close()
		rf.why = "open elsewhere"
		r.j.logger.Warn("journal frames for an event log another process has open; skipped", "log", rel)
		return rf
	}
	rf.f = f
	return rf
}

func (r *replayer) syncAll() error {
	for rel, rf := range r.files {
		if rf.f == nil || !rf.dirt || r.j.noSync {
			continue
		}
		if err := rf.f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", rel, err)
		}
	}
	return nil
}

func (r *replayer) closeAll() {
	for _, rf := range r.files {
		if rf.f != nil {
			rf.f.Close()
		}
	}
}
