package actionserver

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// List returns the entries of one directory level as OpenHands' /list_files does: "" means
// WorkDir and a relative path is joined to it (not to the shell's cwd); hidden entries are
// included, directories (symlinks to them too) get a trailing "/" and come first, each group
// sorted case-insensitively; broken symlinks are left out. A missing path, a file, a path outside
// the allowed roots or an error gives an empty list.
func (f *Files) List(p string) []string {
	dir := filesResolve(p, f.workDir)
	if !f.allowed(dir) {
		return []string{}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{}
	}
	dirs, files := []string{}, []string{}
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if fi.IsDir() {
			dirs = append(dirs, e.Name()+"/")
		} else {
			files = append(files, e.Name())
		}
	}
	filesSortFold(dirs)
	filesSortFold(files)
	return append(dirs, files...)
}

func filesSortFold(names []string) {
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.ToLower(names[i]), strings.ToLower(names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
}

// Upload stores r as destination/filename, or, when recursive is set or filename ends in .zip,
// extracts the zip archive r into destination. The destination must be absolute and is created if
// missing. The upload is streamed to disk.
func (f *Files) Upload(destination, filename string, r io.Reader, recursive bool) error {
	if !filepath.IsAbs(destination) {
		return fmt.Errorf("%w: destination must be an absolute path, got %q", ErrBadPath, destination)
	}
	dest := filepath.Clean(destination)
	if !f.allowed(dest) {
		return fmt.Errorf("upload to %s: %w", dest, ErrOutsideRoot)
	}
	if filename == "" || filename == "." || filename == ".." || strings.ContainsAny(filename, "/\x00") {
		return fmt.Errorf("%w: the file name must be a plain name, got %q", ErrBadPath, filename)
	}
	isZip := strings.HasSuffix(filename, ".zip")
	if recursive && !isZip {
		return fmt.Errorf("%w: recursive uploads must be zip files, got %q", ErrBadPath, filename)
	}
	if err := os.MkdirAll(dest, 0o777); err != nil {
		return fmt.Errorf("upload: create %s: %w", dest, err)
	}
	if isZip {
		return f.uploadZip(dest, filename, r)
	}

	target := filepath.Join(dest, filename)
	if !f.allowed(target) {
		return fmt.Errorf("upload to %s: %w", target, ErrOutsideRoot)
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return fmt.Errorf("upload %s: %w", target, err)
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", target, err)
	}
	f.log.Debug("uploaded a file", "path", target)
	return nil
}

// uploadZip spools the archive to a temporary file (a zip is read from its end) and extracts it
// into dest.
func (f *Files) uploadZip(dest, filename string, r io.Reader) error {
	tmp, err := os.CreateTemp("", "gohands-upload-*.zip")
	if err != nil {
		return fmt.Errorf("upload %s: %w", filename, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, r)
	if err != nil {
		return fmt.Errorf("upload %s: %w", filename, err)
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		return fmt.Errorf("upload %s: not a zip archive: %w", filename, err)
	}
	if err := filesExtractZip(zr, dest); err != nil {
		return fmt.Errorf("upload %s to %s: %w", filename, dest, err)
	}
	f.log.Debug("uploaded and extracted an archive", "archive", filename, "destination", dest, "entries", len(zr.File))
	return nil
}

// filesExtractZip extracts zr into dest. Every entry must stay inside dest: names that are
// absolute or climb out with "..", and symlinks whose targets do, are refused with ErrOutsideRoot
// before anything is written; files are only written where the real path of their directory is
// inside dest, and links that resolve outside once all are in place are removed and refused.
// Zip modes are kept (executables stay executable).
func filesExtractZip(zr *zip.Reader, dest string) error {
	realDest, err := filesRealPath(dest)
	if err != nil {
		return err
	}
	type link struct{ path, target string }
	var links []link
	for _, zf := range zr.File {
		name, err := filesZipEntryName(zf.Name)
		if err != nil {
			return err
		}
		if zf.Mode()&fs.ModeSymlink != 0 {
			target, err := filesZipLinkTarget(zf)
			if err != nil {
				return err
			}
			resolved := path.Join(path.Dir(name), target)
			if path.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
				return fmt.Errorf("%w: zip entry %q links to %q, outside the destination", ErrOutsideRoot, zf.Name, target)
			}
			links = append(links, link{name, target})
		}
	}

	for _, zf := range zr.File {
		name, _ := filesZipEntryName(zf.Name)
		if name == "." {
			continue
		}
		target := filepath.Join(realDest, filepath.FromSlash(name))
		switch {
		case zf.FileInfo().IsDir():
			if err := filesMkdirInside(target, realDest); err != nil {
				return err
			}
		case zf.Mode()&fs.ModeSymlink != 0:
			// Links are made after the files, so no file is written through one.
		default:
			if err := filesExtractFile(zf, target, realDest); err != nil {
				return err
			}
		}
	}

	for _, l := range links {
		p := filepath.Join(realDest, filepath.FromSlash(l.path))
		if err := filesMkdirInside(filepath.Dir(p), realDest); err != nil {
			return err
		}
		if fi, err := os.Lstat(p); err == nil && !fi.IsDir() {
			_ = os.Remove(p)
		}
		if err := os.Symlink(l.target, p); err != nil {
			return err
		}
	}
	var escaped []string
	for _, l := range links {
		p := filepath.Join(realDest, filepath.FromSlash(l.path))
		if err := filesCheckInside(p, realDest); err != nil {
			escaped = append(escaped, l.path)
			_ = os.Remove(p)
		}
	}
	if len(escaped) > 0 {
		return fmt.Errorf("%w: zip symlinks %q resolve outside the destination", ErrOutsideRoot, escaped)
	}
	return nil
}

// filesZipEntryName is the entry's name cleaned and relative, or ErrOutsideRoot if it leaves the
// destination.
func filesZipEntryName(name string) (string, error) {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") {
		return "", fmt.Errorf("%w: zip entry %q has an absolute path", ErrOutsideRoot, name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: zip entry %q escapes the destination", ErrOutsideRoot, name)
	}
	return clean, nil
}

func filesZipLinkTarget(zf *zip.File) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 || len(b) == 0 {
		return "", fmt.Errorf("zip entry %q: bad symlink target", zf.Name)
	}
	return string(b), nil
}

// filesCheckInside returns ErrOutsideRoot unless p really resolves inside realDest.
func filesCheckInside(p, realDest string) error {
	real, err := filesRealPath(p)
	if err != nil {
		return err
	}
	if !filesWithin(real, realDest) {
		return fmt.Errorf("%w: %s resolves to %s", ErrOutsideRoot, p, real)
	}
	return nil
}

// filesMkdirInside creates dir and its parents if it resolves inside realDest.
func filesMkdirInside(dir, realDest string) error {
	if err := filesCheckInside(dir, realDest); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return filesCheckInside(dir, realDest)
}

func filesExtractFile(zf *zip.File, target, realDest string) error {
	if err := filesMkdirInside(filepath.Dir(target), realDest); err != nil {
		return err
	}
	// Replace rather than write through whatever sits at target.
	if fi, err := os.Lstat(target); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(target); err != nil {
			return err
		}
	}
	perm := zf.Mode().Perm()
	if perm == 0 {
		perm = 0o644
	}
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", zf.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", zf.Name, err)
	}
	return nil
}

// Download writes to w a zip of every regular file under p, named relative to p; a symlink to a
// regular file is stored as that file's content (links to directories are not followed, and with
// allowed roots set, links leading outside them are skipped). If p is a file, the zip holds that
// file under its base name. (OpenHands returns an empty zip for a file.) Unreadable files are
// skipped with a warning.
func (f *Files) Download(w io.Writer, p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%w: path must be an absolute path, got %q", ErrBadPath, p)
	}
	root := filepath.Clean(p)
	if !f.allowed(root) {
		return fmt.Errorf("download %s: %w", root, ErrOutsideRoot)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("%w: download %s: %v", ErrBadPath, root, err)
	}

	zw := zip.NewWriter(w)
	if !fi.IsDir() {
		if err := f.zipFile(zw, root, filepath.Base(root)); err != nil {
			return err
		}
		return zw.Close()
	}
	// The trailing slash makes the walk follow root itself when it is a symlink to a directory.
	err = filepath.WalkDir(root+string(filepath.Separator), func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			f.log.Warn("download: skip an unreadable path", "path", full, "err", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return err
		}
		return f.zipFile(zw, full, filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("download %s: %w", root, err)
	}
	return zw.Close()
}

// zipFile adds the file at full to zw as name, following a symlink to a regular file; anything
// else, and files that cannot be opened, are skipped. Only write errors are returned.
func (f *Files) zipFile(zw *zip.Writer, full, name string) error {
	fi, err := os.Stat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if len(f.roots) > 0 && !f.allowed(full) {
		f.log.Warn("download: skip a link leading outside the allowed roots", "path", full)
		return nil
	}
	in, err := os.Open(full)
	if err != nil {
		f.log.Warn("download: skip an unreadable file", "path", full, "err", err)
		return nil
	}
	defer in.Close()
	hdr, err := zip.FileInfoHeader(fi)
	if err != nil {
		return err
	}
	hdr.Name = name
	hdr.Method = zip.Deflate
	out, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("zip %s: %w", full, err)
	}
	return nil
}
