package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
)

// The workspace file routes (server.md §2.7 items 7-9, 13). They reach the conversation's sandbox
// through the manager's Attach, which starts it when no agent loop runs.
//
// Unlike OpenHands, every path a request names is confined to the sandbox workspace: a path that
// leaves it (through "..", or an absolute path elsewhere) is refused with 400. The check is
// lexical; symbolic links inside the workspace are the sandbox's own business (its action server
// confines file access to its allowed roots).

// attach holds the conversation's sandbox for one request; it answers the error itself (nil).
// The caller must Detach.
func (s *Server) attach(w http.ResponseWriter, r *http.Request, id, what string) *conversation.Attached {
	mgr := s.manager(w)
	if mgr == nil {
		return nil
	}
	a, err := mgr.Attach(r.Context(), id)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		conversationNotFound(w, id)
		return nil
	case err != nil:
		s.log.Error("attach to conversation", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: what + ": " + err.Error()})
		return nil
	}
	return a
}

// workspaceDir is the sandbox's workspace directory.
func workspaceDir(a *conversation.Attached) string {
	if ws := a.Runtime.Info().WorkspaceDir; ws != "" {
		return path.Clean(ws)
	}
	return "/workspace"
}

var errOutsideWorkspace = errors.New("path is outside the workspace")

// confine resolves p (relative to ws, or absolute) and returns the absolute path and the path
// relative to ws ("." for ws itself). It fails when the result is not ws or inside it.
func confine(ws, p string) (abs, rel string, err error) {
	if strings.ContainsRune(p, 0) {
		return "", "", errOutsideWorkspace
	}
	if path.IsAbs(p) {
		abs = path.Clean(p)
	} else {
		abs = path.Join(ws, p)
	}
	switch {
	case abs == ws:
		return abs, ".", nil
	case strings.HasPrefix(abs, strings.TrimSuffix(ws, "/")+"/"):
		return abs, strings.TrimPrefix(abs, strings.TrimSuffix(ws, "/")+"/"), nil
	}
	return "", "", errOutsideWorkspace
}

func outsideWorkspace(w http.ResponseWriter, p string) {
	writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("%q: %s", p, errOutsideWorkspace)})
}

// run executes one action in the sandbox and returns its observation.
func run(ctx context.Context, a *conversation.Attached, act events.Action) (events.Observation, error) {
	obs, err := a.Runtime.Run(ctx, events.NewAction(act))
	if err != nil {
		return nil, err
	}
	if obs.Observation == nil {
		return nil, errors.New("the sandbox answered with no observation")
	}
	return obs.Observation, nil
}

// readFile reads a text file of the sandbox; binary reports ERROR_BINARY_FILE.
func readFile(ctx context.Context, a *conversation.Attached, p string) (text string, binary bool, err error) {
	obs, err := run(ctx, a, &events.FileReadAction{Path: p, End: -1, ImplSource: events.ImplSourceDefault})
	if err != nil {
		return "", false, err
	}
	switch o := obs.(type) {
	case *events.FileReadObservation:
		return o.Content, false, nil
	case *events.ErrorObservation:
		if strings.Contains(o.Content, "ERROR_BINARY_FILE") {
			return "", true, nil
		}
		return "", false, errors.New(o.Content)
	}
	return "", false, fmt.Errorf("unexpected %s observation", obs.ObservationType())
}

// ignoredNames are never listed (OpenHands' FILES_TO_IGNORE).
var ignoredNames = []string{".git/", ".DS_Store", "node_modules/", "__pycache__/", "lost+found/", ".vscode/"}

// handleListFiles lists one directory level of the workspace: directories first with a trailing
// "/", each entry prefixed with the requested path, without the names above and without what the
// workspace's top-level .gitignore excludes. OpenHands drops those names only when no path is
// given (it compares them after prefixing); we drop them at every level.
func (s *Server) handleListFiles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a := s.attach(w, r, id, "Error listing files")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	ws := workspaceDir(a)
	reqPath, given := queryValue(r, "path")
	given = given && reqPath != ""
	rel := "."
	prefix := ""
	if given {
		var err error
		if _, rel, err = confine(ws, reqPath); err != nil {
			outsideWorkspace(w, reqPath)
			return
		}
		prefix = path.Clean(reqPath) + "/"
	}
	names, err := a.Runtime.ListFiles(r.Context(), rel)
	if err != nil {
		s.log.Error("list files", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error listing files: " + err.Error()})
		return
	}
	var ignore *gitignore
	if text, _, err := readFile(r.Context(), a, path.Join(ws, ".gitignore")); err == nil {
		ignore = parseGitignore(text)
	}
	out := []string{}
	for _, name := range names {
		if slices.Contains(ignoredNames, name) {
			continue
		}
		if ignore != nil && ignore.match(path.Join(rel, name), strings.HasSuffix(name, "/")) {
			continue
		}
		out = append(out, prefix+name)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSelectFile returns the text of a workspace file.
func (s *Server) handleSelectFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	file, ok := requireQuery(w, r, "file")
	if !ok {
		return
	}
	a := s.attach(w, r, id, "Error opening file")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	abs, _, err := confine(workspaceDir(a), file)
	if err != nil {
		outsideWorkspace(w, file)
		return
	}
	text, binary, err := readFile(r.Context(), a, abs)
	switch {
	case binary:
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "Unable to open binary file: " + abs})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error opening file: " + err.Error()})
	default:
		writeJSON(w, http.StatusOK, struct {
			Code string `json:"code"`
		}{text})
	}
}

// handleZipDirectory downloads the whole workspace as a zip. The archive is spooled to a
// temporary file first, so that a failure is still an error status and not a truncated download.
func (s *Server) handleZipDirectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a := s.attach(w, r, id, "Error zipping workspace")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	tmp, err := os.CreateTemp("", "gohands-workspace-*.zip")
	if err != nil {
		s.log.Error("zip workspace", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, detailBody{Detail: "Failed to zip workspace"})
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := a.Runtime.CopyFrom(r.Context(), workspaceDir(a), tmp); err != nil {
		s.log.Error("zip workspace", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error zipping workspace: " + err.Error()})
		return
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.log.Error("zip workspace", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, detailBody{Detail: "Failed to zip workspace"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="workspace.zip"`)
	h.Set("Content-Length", fmt.Sprint(size))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, tmp); err != nil {
		s.log.Warn("send workspace zip", "conversation_id", id, "err", err)
	}
}
