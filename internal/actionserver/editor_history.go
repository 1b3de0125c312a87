package actionserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// editorHistory keeps the last few texts of each edited file for undo_edit. The texts live in a
// temporary directory, not in memory (a file may be up to 10 MB and is kept up to depth times),
// and only as long as the server: like OpenHands, undo does not survive a restart.
// It is not safe for concurrent use; strReplaceEditor.mu guards it.
type editorHistory struct {
	depth int
	dir   string // created on first use
	files map[string]*editorFileHistory
	next  int // id of the next file
}

type editorFileHistory struct {
	id      int
	entries []int // counters of the stored texts, oldest first
	counter int
}

func newEditorHistory(depth int) *editorHistory {
	return &editorHistory{depth: depth, files: map[string]*editorFileHistory{}}
}

func (h *editorHistory) entryPath(fh *editorFileHistory, counter int) string {
	return filepath.Join(h.dir, fmt.Sprintf("%d.%d", fh.id, counter))
}

// add stores text as the newest entry for path, dropping the oldest beyond depth.
func (h *editorHistory) add(path, text string) error {
	if h.dir == "" {
		dir, err := os.MkdirTemp("", "gohands-editor-history-")
		if err != nil {
			return fmt.Errorf("create the history directory: %w", err)
		}
		h.dir = dir
	}
	fh := h.files[path]
	if fh == nil {
		fh = &editorFileHistory{id: h.next}
		h.next++
		h.files[path] = fh
	}
	if err := os.WriteFile(h.entryPath(fh, fh.counter), []byte(text), 0o600); err != nil {
		return fmt.Errorf("save a history entry: %w", err)
	}
	fh.entries = append(fh.entries, fh.counter)
	fh.counter++
	for len(fh.entries) > h.depth {
		_ = os.Remove(h.entryPath(fh, fh.entries[0]))
		fh.entries = fh.entries[1:]
	}
	return nil
}

// pop removes and returns the newest entry for path; ok is false when there is none.
func (h *editorHistory) pop(path string) (text string, ok bool, err error) {
	fh := h.files[path]
	if fh == nil || len(fh.entries) == 0 {
		return "", false, nil
	}
	last := fh.entries[len(fh.entries)-1]
	fh.entries = fh.entries[:len(fh.entries)-1]
	p := h.entryPath(fh, last)
	data, err := os.ReadFile(p)
	if err != nil {
		return "", false, fmt.Errorf("read a history entry: %w", err)
	}
	_ = os.Remove(p)
	return string(data), true, nil
}

func (h *editorHistory) close() error {
	if h.dir == "" {
		return nil
	}
	err := os.RemoveAll(h.dir)
	h.dir = ""
	h.files = map[string]*editorFileHistory{}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the editor history: %w", err)
	}
	return nil
}
