package actionserver

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/pmezard/go-difflib/difflib"
)

// editorUnifiedDiff is the diff the UI shows for an editor edit, as openhands-aci makes it: a
// unified diff of the two texts split on "\n", both headers naming path, zero context lines,
// every line right-trimmed, joined with "\n" and no final newline; "" when nothing changed.
//
// The hunks must be the ones Python's difflib finds, so this uses go-difflib's port of its
// SequenceMatcher (same longest-match choice and "popular line" junk heuristic) and writes the
// format here: the library's writer expects newline-terminated lines and skips headers when no
// file name is given.
func editorUnifiedDiff(before, after, path string) string {
	a := strings.Split(before, "\n")
	b := strings.Split(after, "\n")
	groups := difflib.NewMatcher(a, b).GetGroupedOpCodes(0)
	if len(groups) == 0 {
		return ""
	}
	out := []string{"--- " + path, "+++ " + path}
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		out = append(out, fmt.Sprintf("@@ -%s +%s @@",
			editorDiffRange(first.I1, last.I2), editorDiffRange(first.J1, last.J2)))
		for _, c := range g {
			if c.Tag == 'e' {
				for _, l := range a[c.I1:c.I2] {
					out = append(out, " "+l)
				}
				continue
			}
			if c.Tag == 'r' || c.Tag == 'd' {
				for _, l := range a[c.I1:c.I2] {
					out = append(out, "-"+l)
				}
			}
			if c.Tag == 'r' || c.Tag == 'i' {
				for _, l := range b[c.J1:c.J2] {
					out = append(out, "+"+l)
				}
			}
		}
	}
	for i, l := range out {
		out[i] = strings.TrimRightFunc(l, editorPySpace)
	}
	return strings.Join(out, "\n")
}

// editorDiffRange is a unified diff range: "start" for one line, else "start,length", an empty
// range starting at the line before it.
func editorDiffRange(start, stop int) string {
	first, length := start+1, stop-start
	if length == 1 {
		return fmt.Sprint(first)
	}
	if length == 0 {
		first--
	}
	return fmt.Sprintf("%d,%d", first, length)
}

// editorPySpace is Python's str.isspace, which also counts the ASCII file/group/record/unit
// separators.
func editorPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
