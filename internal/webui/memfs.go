package webui

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"time"
)

// memFS is a read-only file system held in memory: the page with its rewritten layout. It is
// filled once by FS and never changed afterwards, so it needs no lock.
type memFS struct {
	files map[string][]byte
	dirs  map[string][]string // directory → the names of its children, sorted
}

func newMemFS() *memFS {
	return &memFS{files: map[string][]byte{}, dirs: map[string][]string{".": nil}}
}

// add stores a file and the directories above it.
func (m *memFS) add(name string, data []byte) {
	m.files[name] = data
	for child := name; child != "."; child = path.Dir(child) {
		parent := path.Dir(child)
		base := path.Base(child)
		if !slices.Contains(m.dirs[parent], base) {
			m.dirs[parent] = append(m.dirs[parent], base)
			slices.Sort(m.dirs[parent])
		}
	}
}

func (m *memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m.files[name]; ok {
		return &memFile{info: memInfo{name: path.Base(name), size: int64(len(data))}, Reader: bytes.NewReader(data)}, nil
	}
	if children, ok := m.dirs[name]; ok {
		entries := make([]fs.DirEntry, 0, len(children))
		for _, c := range children {
			full := path.Join(name, c)
			info := memInfo{name: c, size: int64(len(m.files[full]))}
			if _, isDir := m.dirs[full]; isDir {
				info = memInfo{name: c, dir: true}
			}
			entries = append(entries, fs.FileInfoToDirEntry(info))
		}
		return &memDir{info: memInfo{name: path.Base(name), dir: true}, entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// memFile is an open file; it can seek, so the server serves ranges and sizes from it directly.
type memFile struct {
	info memInfo
	*bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// memDir is an open directory.
type memDir struct {
	info    memInfo
	entries []fs.DirEntry
	offset  int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Close() error               { return nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}

func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return slices.Clone(rest[:n]), nil
}

// memInfo describes a file or directory; the modification time is unknown (zero), as for
// embedded files.
type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
