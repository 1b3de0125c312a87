package sandbox

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CopyTo uploads hostPath into sandboxDir through c, as OpenHands' copy_to does: a file keeps its
// base name; a directory (recursive) arrives as sandboxDir/<its name>/…. A missing host path is an
// error before anything is sent.
func CopyTo(ctx context.Context, c *Client, hostPath, sandboxDir string, recursive bool) error {
	info, err := os.Stat(hostPath)
	if err != nil {
		return fmt.Errorf("copy %s to the sandbox: %w", hostPath, err)
	}
	if !recursive {
		if info.IsDir() {
			return fmt.Errorf("copy %s to the sandbox: it is a directory; copy it recursively", hostPath)
		}
		f, err := os.Open(hostPath)
		if err != nil {
			return fmt.Errorf("copy %s to the sandbox: %w", hostPath, err)
		}
		defer f.Close()
		return c.Upload(ctx, sandboxDir, filepath.Base(hostPath), f, false)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(zipTree(pw, hostPath)) }()
	defer pr.Close()
	return c.Upload(ctx, sandboxDir, filepath.Base(hostPath)+".zip", pr, true)
}

// zipTree writes root as a zip whose entry names start with root's own name.
func zipTree(w io.Writer, root string) error {
	zw := zip.NewWriter(w)
	parent := filepath.Dir(root)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(parent, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			_, err := zw.Create(rel + "/")
			return err
		}
		if !d.Type().IsRegular() {
			return nil // sockets, devices and symlinks are not copied
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = rel, zip.Deflate
		dst, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(dst, f)
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}
