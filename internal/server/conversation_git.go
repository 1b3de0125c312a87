package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/events"
)

// The git routes (server.md §2.7 items 10-11) run git in the sandbox as static commands (a fresh
// shell outside the agent's terminal) in the repository directory: /workspace/<repository name>
// when the conversation has a selected repository, else the workspace.
//
// OpenHands compares with the remote branch (or the merge base with the default branch) and lists
// untracked files separately; we report `git status` against HEAD, which needs no remote: what the
// agent changed since the last commit, untracked files as added.

type gitChange struct {
	Status string `json:"status"`
	Path   string `json:"path"`
}

var errNotGitRepo = errors.New("Not a git repository")

// gitDir is the directory git runs in.
func gitDir(a *conversation.Attached) string {
	ws := workspaceDir(a)
	if md := a.Metadata; md != nil && md.SelectedRepository != nil && *md.SelectedRepository != "" {
		repo := *md.SelectedRepository
		if i := strings.LastIndex(repo, "/"); i >= 0 {
			repo = repo[i+1:]
		}
		if repo != "" && repo != "." && repo != ".." {
			return path.Join(ws, repo)
		}
	}
	return ws
}

// git runs one git command in dir and returns its output and exit code.
func git(ctx context.Context, a *conversation.Attached, dir, args string) (string, int, error) {
	return shell(ctx, a, dir, "git --no-pager "+args)
}

// shell runs one shell command in dir and returns its output and exit code.
func shell(ctx context.Context, a *conversation.Attached, dir, command string) (string, int, error) {
	obs, err := run(ctx, a, &events.CmdRunAction{
		Command: command, Cwd: &dir, IsStatic: true, Hidden: true, Blocking: true,
	})
	if err != nil {
		return "", 0, err
	}
	switch o := obs.(type) {
	case *events.CmdOutputObservation:
		return o.Content, o.Metadata.ExitCode, nil
	case *events.ErrorObservation:
		return o.Content, -1, nil
	}
	return "", 0, fmt.Errorf("unexpected %s observation", obs.ObservationType())
}

// isGitRepo reports whether dir is inside a git work tree (false too when dir does not exist or
// git is missing).
func isGitRepo(ctx context.Context, a *conversation.Attached, dir string) (bool, error) {
	out, code, err := git(ctx, a, dir, "rev-parse --is-inside-work-tree")
	if err != nil {
		return false, err
	}
	return code == 0 && strings.TrimSpace(out) == "true", nil
}

// gitChanges lists the changes of the work tree in dir against HEAD.
func gitChanges(ctx context.Context, a *conversation.Attached, dir string) ([]gitChange, error) {
	ok, err := isGitRepo(ctx, a, dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotGitRepo
	}
	// Porcelain v2: no line starts with a space, which the sandbox's trimming of command output
	// would eat (v1 starts unstaged changes with one).
	out, code, err := git(ctx, a, dir, "-c core.quotePath=false status --porcelain=v2 --untracked-files=all")
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("git status failed: %s", strings.TrimSpace(out))
	}
	return parsePorcelainV2(out), nil
}

// parsePorcelainV2 maps `git status --porcelain=v2` lines to the UI's statuses: M, A, D, R, U
// (untracked files count as added).
func parsePorcelainV2(out string) []gitChange {
	changes := []gitChange{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		var xy, p string
		switch {
		case strings.HasPrefix(line, "? "):
			changes = append(changes, gitChange{Status: "A", Path: unquoteGitPath(line[2:])})
			continue
		case strings.HasPrefix(line, "1 "):
			f := strings.SplitN(line, " ", 9)
			if len(f) < 9 {
				continue
			}
			xy, p = f[1], f[8]
		case strings.HasPrefix(line, "2 "):
			f := strings.SplitN(line, " ", 10)
			if len(f) < 10 {
				continue
			}
			xy, p = f[1], f[9]
			p, _, _ = strings.Cut(p, "\t") // new path, then the original one
		case strings.HasPrefix(line, "u "):
			f := strings.SplitN(line, " ", 11)
			if len(f) < 11 {
				continue
			}
			changes = append(changes, gitChange{Status: "U", Path: unquoteGitPath(f[10])})
			continue
		default:
			continue
		}
		if len(xy) != 2 {
			continue
		}
		changes = append(changes, gitChange{Status: porcelainStatus(xy[0], xy[1]), Path: unquoteGitPath(p)})
	}
	return changes
}

func porcelainStatus(x, y byte) string {
	switch {
	case x == 'R' || y == 'R':
		return "R"
	case x == 'D' || y == 'D':
		return "D"
	case x == 'A' || x == 'C' || y == 'A' || y == 'C':
		return "A"
	}
	return "M"
}

// unquoteGitPath undoes git's C-style quoting of unusual paths ("a\tb").
func unquoteGitPath(p string) string {
	if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
		if s, err := strconv.Unquote(p); err == nil {
			return s
		}
	}
	return p
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (s *Server) handleGitChanges(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a := s.attach(w, r, id, "Error getting changes")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	changes, err := gitChanges(r.Context(), a, gitDir(a))
	switch {
	case errors.Is(err, errNotGitRepo):
		writeJSON(w, http.StatusNotFound, errorBody{Error: err.Error()})
	case err != nil:
		s.log.Error("git changes", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error getting changes: " + err.Error()})
	default:
		writeJSON(w, http.StatusOK, changes)
	}
}

// handleGitDiff returns a file's current text and its text at HEAD ("" when it is new or deleted).
func (s *Server) handleGitDiff(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, ok := requireQuery(w, r, "path")
	if !ok {
		return
	}
	a := s.attach(w, r, id, "Error getting diff")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	dir := gitDir(a)
	target := p
	if !path.IsAbs(p) {
		target = path.Join(dir, p)
	}
	abs, _, err := confine(workspaceDir(a), target)
	if err != nil {
		outsideWorkspace(w, p)
		return
	}
	modified, _, err := readFile(r.Context(), a, abs)
	if err != nil {
		modified = "" // a deleted file has no current text
	}
	original := ""
	if strings.HasPrefix(abs, dir+"/") {
		original, err = gitOriginal(r.Context(), a, dir, strings.TrimPrefix(abs, dir+"/"))
		if err != nil {
			s.log.Error("git diff", "conversation_id", id, "err", err)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error getting diff: " + err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Modified string `json:"modified"`
		Original string `json:"original"`
	}{modified, original})
}

// gitOriginal is the text of rel (relative to the repository directory dir) at HEAD; "" when it
// is not in HEAD, is binary or dir is no repository. Command output is trimmed and truncated by
// the sandbox, so the blob goes through a scratch file in the repository's git directory, read
// back like any file.
func gitOriginal(ctx context.Context, a *conversation.Attached, dir, rel string) (string, error) {
	if ok, err := isGitRepo(ctx, a, dir); err != nil || !ok {
		return "", err
	}
	gitDirOut, code, err := git(ctx, a, dir, "rev-parse --absolute-git-dir")
	if err != nil || code != 0 {
		return "", err
	}
	scratch := path.Join(strings.TrimSpace(gitDirOut), "gohands-original-"+newConversationID()[:12])
	defer func() {
		_, _, _ = shell(context.WithoutCancel(ctx), a, dir, "rm -f "+shellQuote(scratch))
	}()
	_, code, err = git(ctx, a, dir, "cat-file blob "+shellQuote("HEAD:./"+rel)+" > "+shellQuote(scratch))
	if err != nil || code != 0 {
		return "", err
	}
	text, binary, err := readFile(ctx, a, scratch)
	if binary || err != nil {
		return "", nil
	}
	return text, nil
}
