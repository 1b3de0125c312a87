package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	filePerm = 0o600
	dirPerm  = 0o700

	// tmpPrefix starts the name of every temporary file or directory the store creates. The leading
	// dot keeps them out of conversation listings; the rest makes them recognisable as ours.
	tmpPrefix = ".gohands-tmp-"
)

// writeFileAtomic replaces path with data: temporary file in the same directory, fsync, rename,
// fsync of the directory. Readers see the old content or the new, never a mix.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeFileExclusive creates path with data only if path does not exist yet, atomically: the file
// appears complete or not at all. It returns an error satisfying errors.Is(err, fs.ErrExist) when
// path already exists. A hard link is used so that concurrent creators cannot both win; on file
// systems without hard links it falls back to O_EXCL, which can expose a partly written file to a
// reader for a moment but still never lets two writers both succeed.
func writeFileExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	linkErr := os.Link(tmp, path)
	os.Remove(tmp)
	switch {
	case linkErr == nil:
	case errors.Is(linkErr, fs.ErrExist):
		return fmt.Errorf("create %s: %w", path, fs.ErrExist)
	default:
		if err := writeExclFallback(path, data); err != nil {
			return err
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

func writeExclFallback(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("create %s: %w", path, werr)
	}
	return nil
}

// writeTemp writes data to a new 0600 temporary file in dir, fsyncs and closes it, and returns its
// path. The caller renames or removes it.
func writeTemp(dir, base string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tmpPrefix+base+"-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, base), err)
	}
	name := f.Name()
	err = f.Chmod(filePerm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, base), err)
	}
	return name, nil
}

// syncDir fsyncs a directory so that a rename or create inside it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
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

// mkdirAll creates dir and its missing parents with mode 0700. It returns an error naming dir when
// something that is not a directory is in the way.
func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return nil
}

// readFile reads path, turning a missing file into ErrNotFound and naming the file in every error.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, err // an *fs.PathError, which names the file
	}
	return data, nil
}
