package server

import (
	"path"
	"strings"
)

// gitignore is the workspace's top-level .gitignore, for filtering list-files. OpenHands matches
// with git's full wildmatch; this is a simpler reading that covers what .gitignore files usually
// hold: blank lines and # comments, ! negation (the last matching pattern wins), a trailing / for
// directories only, a leading or inner / anchoring the pattern to the workspace root, ** for any
// number of directories, and *, ? and [...] within one path segment. Backslash escapes and
// nested .gitignore files are not supported.
type gitignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	segments []string
	negate   bool
	dirOnly  bool
	anchored bool
}

func parseGitignore(text string) *gitignore {
	g := &gitignore{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var rule ignoreRule
		if strings.HasPrefix(line, "!") {
			rule.negate, line = true, line[1:]
		}
		if strings.HasSuffix(line, "/") {
			rule.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		if strings.Contains(line, "/") {
			rule.anchored, line = true, strings.TrimPrefix(line, "/")
		}
		if line == "" {
			continue
		}
		rule.segments = strings.Split(line, "/")
		g.rules = append(g.rules, rule)
	}
	return g
}

// match reports whether rel (a slash-separated path relative to the workspace) is ignored, either
// itself or through one of its parent directories.
func (g *gitignore) match(rel string, isDir bool) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		dir := i < len(parts) || isDir
		if g.matchOne(parts[:i], dir) {
			return true
		}
	}
	return false
}

// matchOne applies the rules to one path; the last rule that matches decides.
func (g *gitignore) matchOne(parts []string, isDir bool) bool {
	ignored := false
	for _, r := range g.rules {
		if r.dirOnly && !isDir {
			continue
		}
		var ok bool
		if r.anchored {
			ok = matchSegments(r.segments, parts)
		} else {
			ok = matchSegments(r.segments, parts[len(parts)-1:])
		}
		if ok {
			ignored = !r.negate
		}
	}
	return ignored
}

// matchSegments matches glob segments against path segments; "**" matches any number of them.
func matchSegments(pat, parts []string) bool {
	if len(pat) == 0 {
		return len(parts) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if matchSegments(pat[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	if ok, err := path.Match(pat[0], parts[0]); err != nil || !ok {
		return false
	}
	return matchSegments(pat[1:], parts[1:])
}
