package memory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Workspace is the file tree microagents are read from: a directory of the host for the local
// runtime and the global directory, the sandbox's workspace otherwise.
//
// Paths are slash-separated and relative to the workspace root ("" or "." is the root).
type Workspace interface {
	// ReadFile returns a file's contents; a missing file is an error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// ListMarkdown returns every "*.md" file under dir, at any depth, as paths relative to dir.
	// A missing dir gives no paths, and either no error or one wrapping fs.ErrNotExist.
	ListMarkdown(ctx context.Context, dir string) ([]string, error)
}

// DirWorkspace is a Workspace on a directory of the host. Reads cannot leave the directory, not
// even through symbolic links, so a workspace cannot make the backend read its other files.
type DirWorkspace string

// ReadFile implements Workspace.
func (d DirWorkspace) ReadFile(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(string(d))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(filepath.FromSlash(cleanPath(name)))
}

// ListMarkdown implements Workspace.
func (d DirWorkspace) ListMarkdown(ctx context.Context, dir string) ([]string, error) {
	root, err := os.OpenRoot(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	dir = cleanPath(dir)
	var files []string
	err = fs.WalkDir(root.FS(), dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".md") {
			rel := strings.TrimPrefix(p, dir+"/")
			if dir == "." {
				rel = p
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return files, nil
}

// cleanPath makes a workspace path acceptable to io/fs: "." for the root, no leading "./" or "/".
func cleanPath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// LoadDir loads the microagents of a microagents directory: every "*.md" file under dir except
// README.md, each named by its path relative to dir without ".md". A file that cannot be read or
// parsed is left out, and the returned error (errors.Join of one error per file, each naming the
// file) says why; the others are returned all the same, sorted by path.
func LoadDir(ctx context.Context, ws Workspace, dir string) ([]*Microagent, error) {
	agents, errs := loadDir(ctx, ws, dir, func(p string) string { return p })
	return agents, errors.Join(errs...)
}

// loadDir is LoadDir with the per-file errors apart; source turns a workspace path into the path
// recorded as the microagent's Source.
func loadDir(ctx context.Context, ws Workspace, dir string, source func(string) string) ([]*Microagent, []error) {
	files, err := ws.ListMarkdown(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("microagents %s: %w", source(cleanPath(dir)), err)}
	}
	slices.Sort(files)
	var agents []*Microagent
	var errs []error
	for _, rel := range files {
		if path.Base(rel) == "README.md" {
			continue
		}
		p := path.Join(cleanPath(dir), rel)
		data, err := ws.ReadFile(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return agents, append(errs, ctx.Err())
			}
			errs = append(errs, fmt.Errorf("microagent %s: %w", source(p), err))
			continue
		}
		m, err := Parse(source(p), strings.TrimSuffix(rel, ".md"), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		agents = append(agents, m)
	}
	return agents, errs
}
