package eventlog

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// scanChunk bounds how many bytes Scan reads with one ReadAt. Records are
// contiguous in the file, so a chunk of neighbours costs one pread.
const scanChunk = 1 << 20

// snapshot returns the durable index as of now. The slice may be used
// without mu: the index is append-only and its elements never change.
func (l *Log) snapshot() ([]entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	return l.index, nil
}

// Read returns the payload of the durable record id, or an error wrapping
// ErrNotFound if there is none. The returned slice belongs to the caller.
func (l *Log) Read(id int64) ([]byte, error) {
	idx, err := l.snapshot()
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(idx), func(i int) bool { return idx[i].id >= id })
	if i == len(idx) || idx[i].id != id {
		return nil, fmt.Errorf("eventlog %s: read id %d: %w", l.path, id, ErrNotFound)
	}
	e := idx[i]
	buf := make([]byte, recordHeaderSize+int64(e.n))
	if err := l.readAt(buf, e.off); err != nil {
		return nil, err
	}
	return l.verify(buf, e)
}

// Scan calls fn for every durable record with from <= id <= to (to < 0 means
// up to the last durable id), in ascending order, or descending when reverse,
// and stops early when fn returns false. Missing ids are skipped. The records
// are read without holding the log's lock, so Scan does not hold up appends;
// each payload belongs to fn, which may keep it.
func (l *Log) Scan(from, to int64, reverse bool, fn func(id int64, payload []byte) bool) error {
	idx, err := l.snapshot()
	if err != nil {
		return err
	}
	lo := sort.Search(len(idx), func(i int) bool { return idx[i].id >= from })
	hi := len(idx)
	if to >= 0 {
		hi = sort.Search(len(idx), func(i int) bool { return idx[i].id > to })
	}
	if lo >= hi {
		return nil
	}
	idx = idx[lo:hi]

	if !reverse {
		for i := 0; i < len(idx); {
			j := i + 1
			for j < len(idx) && idx[j].end()-idx[i].off <= scanChunk {
				j++
			}
			if ok, err := l.scanChunk(idx[i:j], false, fn); !ok || err != nil {
				return err
			}
			i = j
		}
		return nil
	}
	for j := len(idx); j > 0; {
		i := j - 1
		for i > 0 && idx[j-1].end()-idx[i-1].off <= scanChunk {
			i--
		}
		if ok, err := l.scanChunk(idx[i:j], true, fn); !ok || err != nil {
			return err
		}
		j = i
	}
	return nil
}

// scanChunk reads the contiguous records chunk with one ReadAt and hands
// them to fn. It reports whether the scan should go on.
func (l *Log) scanChunk(chunk []entry, reverse bool, fn func(int64, []byte) bool) (bool, error) {
	base := chunk[0].off
	buf := make([]byte, chunk[len(chunk)-1].end()-base)
	if err := l.readAt(buf, base); err != nil {
		return false, err
	}
	for k := range chunk {
		e := chunk[k]
		if reverse {
			e = chunk[len(chunk)-1-k]
		}
		rec := buf[e.off-base : e.end()-base : e.end()-base]
		payload, err := l.verify(rec, e)
		if err != nil {
			return false, err
		}
		if !fn(e.id, payload) {
			return false, nil
		}
	}
	return true, nil
}

func (l *Log) readAt(buf []byte, off int64) error {
	if _, err := l.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("eventlog %s: read %d bytes at offset %d: %w", l.path, len(buf), off, err)
	}
	return nil
}

// verify checks a record read back from disk against its index entry and
// checksum, so bit rot after Open is reported instead of served.
func (l *Log) verify(rec []byte, e entry) ([]byte, error) {
	rh := decodeHeader(rec)
	payload := rec[recordHeaderSize:]
	if rh.id != e.id || rh.length != e.n || rh.crc != recordCRC(rec, payload) {
		return nil, fmt.Errorf("eventlog %s: record id %d at offset %d is corrupt on disk", l.path, e.id, e.off)
	}
	return payload, nil
}
