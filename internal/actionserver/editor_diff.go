package actionserver

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/pmezard/go-difflib/difflib"
)

// editorDiffExactLines bounds the lines (both texts together) diffed exactly as difflib does;
// its matcher costs up to n²/100 steps, and a 10 MB file would take seconds.
const editorDiffExactLines = 20000

// editorUnifiedDiff is the diff the UI shows for an editor edit, as openhands-aci makes it: a
// unified diff of the two texts split on "\n", both headers naming path, zero context lines,
// every line right-trimmed, joined with "\n" and no final newline; "" when nothing changed.
//
// The hunks must be the ones Python's difflib finds, so this uses go-difflib's port of its
// SequenceMatcher (same longest-match choice and "popular line" junk heuristic) and writes the
// format here: the library's writer expects newline-terminated lines and skips headers when no
// file name is given. With zero context every change is its own hunk, so each opcode other than
// "equal" is one hunk.
//
// Past editorDiffExactLines the common head and tail are set aside first and only the middle is
// matched (difflib would match it all, which in repetitive text can place a hunk elsewhere); if
// the middle is still that large it is one hunk.
func editorUnifiedDiff(before, after, path string) string {
	a := strings.Split(before, "\n")
	b := strings.Split(after, "\n")
	var ops []difflib.OpCode
	if len(a)+len(b) <= editorDiffExactLines {
		ops = difflib.NewMatcher(a, b).GetOpCodes()
	} else {
		ops = editorTrimmedOpCodes(a, b)
	}
	var out []string
	for _, op := range ops {
		if op.Tag == 'e' {
			continue
		}
		if out == nil {
			out = []string{"--- " + path, "+++ " + path}
		}
		out = append(out, fmt.Sprintf("@@ -%s +%s @@", editorDiffRange(op.I1, op.I2), editorDiffRange(op.J1, op.J2)))
		for _, l := range a[op.I1:op.I2] {
			out = append(out, "-"+l)
		}
		for _, l := range b[op.J1:op.J2] {
			out = append(out, "+"+l)
		}
	}
	for i, l := range out {
		out[i] = strings.TrimRightFunc(l, editorPySpace)
	}
	return strings.Join(out, "\n")
}

// editorTrimmedOpCodes are the changes between a and b found after setting aside their common
// head and tail.
func editorTrimmedOpCodes(a, b []string) []difflib.OpCode {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	var ops []difflib.OpCode
	switch {
	case len(ma) == 0 && len(mb) == 0:
		return nil
	case len(ma)+len(mb) <= editorDiffExactLines:
		ops = difflib.NewMatcher(ma, mb).GetOpCodes()
	default:
		ops = []difflib.OpCode{{Tag: 'r', I1: 0, I2: len(ma), J1: 0, J2: len(mb)}}
	}
	for i := range ops {
		ops[i].I1 += head
		ops[i].I2 += head
		ops[i].J1 += head
		ops[i].J2 += head
	}
	return ops
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
