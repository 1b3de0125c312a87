package actionserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gohands/gohands/internal/events"
)

// FilesOptions configures Files.
type FilesOptions struct {
	// WorkDir is the initial working directory: List resolves relative paths against it, and the
	// editor suggests WorkDir/<path> when the agent gives it a relative path.
	WorkDir string
	// Cwd is the shell's current directory: read and write resolve relative paths against it
	// (nil, or an empty result: WorkDir).
	Cwd func() string
	// AllowedRoots, if non-empty, confines every path (after resolving ".." and the symlinks of
	// its existing part) to these directories.
	AllowedRoots []string
	Logger       *slog.Logger
}

// Files executes the file actions (read, write and the str_replace_editor commands) and the file
// transfers (list, upload, download) with OpenHands 0.50's behaviour and agent-facing texts.
// It is safe for concurrent use.
type Files struct {
	workDir string
	cwd     func() string
	roots   []string
	log     *slog.Logger
	editor  *strReplaceEditor
}

var _ FileOps = (*Files)(nil)

// NewFiles returns Files configured by opts.
func NewFiles(opts FilesOptions) *Files {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workDir := opts.WorkDir
	if workDir == "" {
		workDir = "/"
	}
	f := &Files{workDir: workDir, cwd: opts.Cwd, log: log}
	for _, r := range opts.AllowedRoots {
		if !filepath.IsAbs(r) {
			r = filepath.Join(workDir, r)
		}
		f.roots = append(f.roots, filepath.Clean(r))
	}
	f.editor = newStrReplaceEditor(workDir, f.allowed)
	return f
}

// Close removes the editor's undo history from disk.
func (f *Files) Close() error { return f.editor.close() }

// currentDir is the directory relative read and write paths are resolved against.
func (f *Files) currentDir() string {
	if f.cwd != nil {
		if d := f.cwd(); d != "" {
			return d
		}
	}
	return f.workDir
}

// allowed reports whether abs, an absolute path, resolves inside one of the allowed roots.
func (f *Files) allowed(abs string) bool {
	if len(f.roots) == 0 {
		return true
	}
	real, err := filesRealPath(abs)
	if err != nil {
		return false
	}
	for _, root := range f.roots {
		realRoot, err := filesRealPath(root)
		if err != nil {
			continue
		}
		if filesWithin(real, realRoot) {
			return true
		}
	}
	return false
}

// denied is the observation for a path outside the allowed roots.
func (f *Files) denied(path string) *events.ErrorObservation {
	return &events.ErrorObservation{Content: fmt.Sprintf(
		"You're not allowed to access this path: %s. You can only access paths inside %s.",
		path, strings.Join(f.roots, ", "))}
}

// filesResolve makes p absolute against dir and spells it as pathlib would. ".." is kept, not
// resolved lexically: the confinement check and the file system both see the same string.
func filesResolve(p, dir string) string {
	if !filepath.IsAbs(p) {
		p = dir + "/" + p
	}
	return filesPurePath(p)
}

// Read executes a read action: a line window of a text file (impl_source default) or the
// str_replace_editor view (impl_source oh_aci).
func (f *Files) Read(ctx context.Context, a *events.FileReadAction) events.Observation {
	if err := ctx.Err(); err != nil {
		return &events.ErrorObservation{Content: "Reading " + a.Path + " was cancelled."}
	}
	if a.ImplSource == events.ImplSourceOHACI {
		return f.viewForRead(a)
	}

	workingDir := f.currentDir()
	path := filesResolve(a.Path, workingDir)
	if !f.allowed(path) {
		return f.denied(path)
	}

	// Media come back as data URLs before the binary check. (OpenHands checks for binaries
	// first, so a real image never reaches its data URL branch.)
	if mime := filesMediaType(path); mime != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return filesReadError(path, workingDir, err)
		}
		return &events.FileReadObservation{
			Path:       path,
			Content:    "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data),
			ImplSource: events.ImplSourceDefault,
		}
	}
	if filesLooksBinary(path) {
		return &events.ErrorObservation{Content: "ERROR_BINARY_FILE"}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return filesReadError(path, workingDir, err)
	}
	text, ok := filesDecodeUTF8(raw)
	if !ok {
		return &events.ErrorObservation{Content: fmt.Sprintf("File could not be decoded as utf-8: %s.", path)}
	}
	lines := filesReadLines(filesSplitLines(text), a.Start, a.End)
	return &events.FileReadObservation{Path: path, Content: strings.Join(lines, ""), ImplSource: events.ImplSourceDefault}
}

func filesReadError(path, workingDir string, err error) events.Observation {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &events.ErrorObservation{Content: fmt.Sprintf(
			"File not found: %s. Your current working directory is %s.", path, workingDir)}
	case filesIsDirErr(err):
		return &events.ErrorObservation{Content: fmt.Sprintf("Path is a directory: %s. You can only read files", path)}
	}
	return &events.ErrorObservation{Content: fmt.Sprintf("Could not read %s: %s", path, filesPyErr(err))}
}

// viewForRead runs the editor's view for a read action with impl_source oh_aci.
func (f *Files) viewForRead(a *events.FileReadAction) events.Observation {
	if filesPurePathIsAbs(a.Path) {
		p := filesPurePath(a.Path)
		if !f.allowed(p) {
			return f.denied(p)
		}
		if filesLooksBinary(p) {
			return &events.ErrorObservation{Content: "ERROR_BINARY_FILE"}
		}
	}
	res, err := f.editor.run(editorRequest{command: "view", path: a.Path, viewRange: a.ViewRange})
	return &events.FileReadObservation{Path: a.Path, Content: editorContent(res, err), ImplSource: events.ImplSourceOHACI}
}

// Write executes a write action: the content replaces lines [start:end] of the file (the whole
// file by default), each of its lines written with a trailing newline.
func (f *Files) Write(ctx context.Context, a *events.FileWriteAction) events.Observation {
	if err := ctx.Err(); err != nil {
		return &events.ErrorObservation{Content: "Writing " + a.Path + " was cancelled."}
	}
	path := filesResolve(a.Path, f.currentDir())
	if !f.allowed(path) {
		return f.denied(path)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return &events.ErrorObservation{Content: fmt.Sprintf("Could not create the directory of %s: %s", path, filesPyErr(err))}
	}
	pieces := strings.Split(a.Content, "\n")
	var b strings.Builder
	fi, statErr := os.Stat(path)
	exists := statErr == nil
	if exists {
		if fi.IsDir() {
			return &events.ErrorObservation{Content: fmt.Sprintf("Path is a directory: %s. You can only write to files", path)}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return f.writeError(path, err)
		}
		text, ok := filesDecodeUTF8(raw)
		if !ok {
			return &events.ErrorObservation{Content: fmt.Sprintf("File could not be decoded as utf-8: %s", path)}
		}
		old := filesSplitLines(text)
		if a.Start != 0 {
			b.WriteString(strings.Join(old[:filesPyIndex(a.Start, len(old))], ""))
		}
		for _, p := range pieces {
			b.WriteString(p + "\n")
		}
		if a.End != -1 {
			b.WriteString(strings.Join(old[filesPyIndex(a.End, len(old)):], ""))
		}
	} else {
		for _, p := range pieces {
			b.WriteString(p + "\n")
		}
	}

	// Truncating in place keeps an existing file's mode and owner.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o664)
	if err != nil {
		return f.writeError(path, err)
	}
	_, werr := file.WriteString(b.String())
	cerr := file.Close()
	if werr != nil || cerr != nil {
		return f.writeError(path, errors.Join(werr, cerr))
	}
	if !exists {
		if err := os.Chmod(path, 0o664); err != nil {
			return &events.ErrorObservation{Content: fmt.Sprintf(
				"File %s written, but failed to change ownership and permissions: %s", path, filesPyErr(err))}
		}
	}
	return &events.FileWriteObservation{Path: path}
}

func (f *Files) writeError(path string, err error) events.Observation {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &events.ErrorObservation{Content: "File not found: " + path}
	case filesIsDirErr(err):
		return &events.ErrorObservation{Content: fmt.Sprintf("Path is a directory: %s. You can only write to files", path)}
	}
	return &events.ErrorObservation{Content: fmt.Sprintf("Could not write %s: %s", path, filesPyErr(err))}
}

// Edit executes a str_replace_editor command (impl_source oh_aci). Editor failures are edit
// observations whose content starts with "ERROR:\n", as in OpenHands; only a path outside the
// allowed roots or an LLM-based edit gives an error observation.
func (f *Files) Edit(ctx context.Context, a *events.FileEditAction) events.Observation {
	if a.ImplSource == events.ImplSourceLLMBasedEdit {
		return &events.ErrorObservation{Content: "LLM-based edits are done by the backend with read and write " +
			"actions; this server only runs str_replace_editor (oh_aci) edits."}
	}
	if err := ctx.Err(); err != nil {
		return &events.ErrorObservation{Content: "Editing " + a.Path + " was cancelled."}
	}
	if filesPurePathIsAbs(a.Path) {
		if p := filesPurePath(a.Path); !f.allowed(p) {
			return f.denied(p)
		}
	}
	res, err := f.editor.run(editorRequest{
		command:    a.Command,
		path:       a.Path,
		fileText:   a.FileText,
		oldStr:     a.OldStr,
		newStr:     a.NewStr,
		insertLine: a.InsertLine,
	})
	diff := ""
	if err == nil {
		diff = editorUnifiedDiff(res.oldContent, res.newContent, a.Path)
	}
	return &events.FileEditObservation{
		Content:    editorContent(res, err),
		Path:       a.Path,
		OldContent: a.OldStr,
		NewContent: a.NewStr,
		ImplSource: events.ImplSourceOHACI,
		Diff:       &diff,
	}
}

// editorContent is the observation text of an editor command.
func editorContent(res editorResult, err error) string {
	if err != nil {
		return "ERROR:\n" + err.Error()
	}
	return res.output
}

// filesMediaType is the MIME type of a file read back as a data URL, or "".
func filesMediaType(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".bmp":
		return "image/bmp"
	case ".gif":
		return "image/gif"
	case ".pdf":
		return "application/pdf"
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	case ".ogg":
		return "audio/ogg" // what Python's mimetypes says for .ogg
	}
	return ""
}
