package eventlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// load reads the file at Open: it writes the header of a new log, refuses a
// foreign file, verifies every record into the index, and cuts a torn tail.
// It runs before the Log is shared, so it touches fields without mu.
func (l *Log) load() error {
	info, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("eventlog %s: stat: %w", l.path, err)
	}
	size := info.Size()
	if size < fileHeaderSize {
		return l.initHeader(size)
	}

	var hdr [fileHeaderSize]byte
	if _, err := l.f.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("eventlog %s: read header: %w", l.path, err)
	}
	if string(hdr[:len(magic)]) != magic {
		return fmt.Errorf("eventlog %s: not an event log (file starts with %q, want %q); refusing to touch it", l.path, hdr[:], fileHeader())
	}
	if hdr[len(magic)] != version {
		return fmt.Errorf("eventlog %s: unsupported format version %q (this build reads %q)", l.path, hdr[len(magic)], version)
	}

	end, reason, err := l.scanRecords(size)
	if err != nil {
		return err
	}
	l.durableEnd, l.appendEnd, l.allocEnd = end, end, end
	if n := len(l.index); n > 0 {
		l.lastAppended = l.index[n-1].id
	}
	if end < size {
		return l.cutTail(end, size, reason)
	}
	return nil
}

// initHeader starts a new log in a file shorter than a header. An empty file
// is a new log; a file holding a prefix of the header is a log whose creation
// was cut short by a crash. Anything else is not ours and is left untouched.
func (l *Log) initHeader(size int64) error {
	if size > 0 {
		got := make([]byte, size)
		if _, err := l.f.ReadAt(got, 0); err != nil {
			return fmt.Errorf("eventlog %s: read header: %w", l.path, err)
		}
		if !bytes.HasPrefix(fileHeader(), got) {
			return fmt.Errorf("eventlog %s: not an event log (%d-byte file starting with %q); refusing to touch it", l.path, size, got)
		}
		l.logger.Warn("event log header was incomplete; rewriting it", "path", l.path, "bytes", size)
	}
	if _, err := l.f.WriteAt(fileHeader(), 0); err != nil {
		return fmt.Errorf("eventlog %s: write header: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("eventlog %s: sync header: %w", l.path, err)
	}
	// The new directory entry must be durable too, or a crash could lose
	// the whole file along with records acknowledged later.
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("eventlog %s: %w", l.path, err)
	}
	l.durableEnd, l.appendEnd, l.allocEnd = fileHeaderSize, fileHeaderSize, fileHeaderSize
	return nil
}

// scanRecords verifies records from the header on and fills the index. It
// returns the offset just past the last good record and, if that is before
// size, why the next record was rejected.
func (l *Log) scanRecords(size int64) (end int64, reason string, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, fileHeaderSize, size-fileHeaderSize), 1<<20)
	h := crc32.New(castagnoli)
	off := int64(fileHeaderSize)
	last := int64(-1)
	var hb [recordHeaderSize]byte
	for off < size {
		if size-off < recordHeaderSize {
			return off, "incomplete record header", nil
		}
		if _, err := io.ReadFull(r, hb[:]); err != nil {
			return 0, "", fmt.Errorf("eventlog %s: read record at offset %d: %w", l.path, off, err)
		}
		rh := decodeHeader(hb[:])
		switch {
		case rh.length > MaxPayload:
			return off, fmt.Sprintf("impossible payload length %d", rh.length), nil
		case size-off-recordHeaderSize < int64(rh.length):
			return off, fmt.Sprintf("incomplete payload (%d bytes, %d left in file)", rh.length, size-off-recordHeaderSize), nil
		}
		h.Reset()
		h.Write(hb[0:4])
		h.Write(hb[8:16])
		if _, err := io.CopyN(h, r, int64(rh.length)); err != nil {
			return 0, "", fmt.Errorf("eventlog %s: read record at offset %d: %w", l.path, off, err)
		}
		switch {
		case h.Sum32() != rh.crc:
			return off, "checksum mismatch", nil
		case rh.id <= last:
			return off, fmt.Sprintf("id %d not greater than previous id %d", rh.id, last), nil
		}
		l.index = append(l.index, entry{id: rh.id, off: off, n: rh.length})
		last = rh.id
		off += recordHeaderSize + int64(rh.length)
	}
	return off, "", nil
}

// cutTail truncates the file at off. Unless the cut bytes are all zero
// (preallocated or never-written space), it first keeps them in a sidecar
// file so that a bug in recovery can never silently destroy data.
func (l *Log) cutTail(off, size int64, reason string) error {
	zero, err := allZero(io.NewSectionReader(l.f, off, size-off))
	if err != nil {
		return fmt.Errorf("eventlog %s: read torn tail at offset %d: %w", l.path, off, err)
	}
	sidecar := ""
	if !zero {
		if sidecar, err = l.saveTail(off, size); err != nil {
			return err
		}
	}
	if err := l.f.Truncate(off); err != nil {
		return fmt.Errorf("eventlog %s: truncate torn tail at offset %d: %w", l.path, off, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("eventlog %s: sync after truncating torn tail: %w", l.path, err)
	}
	if zero {
		// Expected after a crash: space preallocated but not yet used.
		l.logger.Info("event log had a torn tail of zero bytes; cut it",
			"path", l.path, "offset", off, "bytes_cut", size-off, "reason", reason)
		return nil
	}
	l.logger.Warn("event log had a torn tail; cut it and kept the bytes in a sidecar",
		"path", l.path, "offset", off, "bytes_cut", size-off, "sidecar", sidecar, "reason", reason)
	return nil
}

// saveTail copies [off, size) of the log to a new sidecar file next to it,
// fsyncs it and its directory, and returns its path.
func (l *Log) saveTail(off, size int64) (string, error) {
	base := l.path + ".torn-" + strconv.FormatInt(off, 10)
	var (
		side *os.File
		name string
		err  error
	)
	// The same offset can be torn twice (cut, appended, torn again); never
	// overwrite an earlier sidecar.
	for i := 0; ; i++ {
		name = base
		if i > 0 {
			name = base + "." + strconv.Itoa(i)
		}
		side, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i >= 1000 {
			return "", fmt.Errorf("eventlog %s: create torn-tail sidecar: %w", l.path, err)
		}
	}
	_, err = io.Copy(side, io.NewSectionReader(l.f, off, size-off))
	if err == nil {
		err = side.Sync()
	}
	if cerr := side.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(name))
	}
	if err != nil {
		return "", fmt.Errorf("eventlog %s: save torn tail to %s: %w", l.path, name, err)
	}
	return name, nil
}

func allZero(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// syncDir fsyncs a directory so that entries created in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
