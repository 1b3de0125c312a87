package actionserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// filesPurePath spells p the way Python's pathlib does in OpenHands' messages and observation
// paths: repeated slashes and "." components dropped, no trailing slash, ".." kept (pathlib does
// not resolve it), "" becomes ".". Exactly two leading slashes are kept, as POSIX allows.
func filesPurePath(p string) string {
	root := ""
	switch {
	case strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///"):
		root = "//"
	case strings.HasPrefix(p, "/"):
		root = "/"
	}
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	out := root + strings.Join(parts, "/")
	if out == "" {
		return "."
	}
	return out
}

func filesPurePathIsAbs(p string) bool { return strings.HasPrefix(p, "/") }

// filesRealPath resolves the absolute path p as the kernel would: component by component,
// following symlinks and applying ".." to the directory reached so far. The components after the
// first one that does not exist are appended lexically (they cannot be symlinks yet).
func filesRealPath(p string) (string, error) {
	const maxLinks = 40
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("resolve %s: not an absolute path", p)
	}
	todo := strings.Split(p, "/")
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return filepath.Join(append([]string{next}, todo...)...), nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if filepath.IsAbs(target) {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return cur, nil
}

// filesWithin reports whether p is root or below it; both must be clean absolute paths.
func filesWithin(p, root string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, root+"/")
}

func filesIsDirErr(err error) bool { return errors.Is(err, syscall.EISDIR) }

// filesPyErr renders an OS error as Python's str() of the matching OSError, e.g.
// "[Errno 2] No such file or directory: '/x'", because OpenHands embeds those in agent messages.
func filesPyErr(err error) string {
	var pe *fs.PathError
	var errno syscall.Errno
	if errors.As(err, &pe) && errors.As(pe.Err, &errno) {
		msg := errno.Error()
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		return fmt.Sprintf("[Errno %d] %s: '%s'", int(errno), msg, pe.Path)
	}
	return err.Error()
}
