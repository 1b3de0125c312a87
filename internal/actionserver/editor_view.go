package actionserver

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// The notices appended to clipped output; the agent is prompted to react to them.
const (
	editorFileClippedNotice = "<response clipped><NOTE>Due to the max output limit, only part of this file has been shown to you. " +
		"You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>"
	editorDirClippedNotice = "<response clipped><NOTE>Due to the max output limit, only part of this directory has been shown to you. " +
		"You should use `ls -la` instead to view large directories incrementally.</NOTE>"
)

// view shows a file as `cat -n` does (optionally lines viewRange[0]..viewRange[1]), or a directory
// two levels deep.
func (e *strReplaceEditor) view(path string, viewRange []int) (string, error) {
	if editorIsDir(path) {
		if len(viewRange) > 0 {
			return "", editorInvalidParam("view_range", editorIntList(viewRange),
				"The `view_range` parameter is not allowed when `path` points to a directory.")
		}
		return editorViewDir(path), nil
	}
	if err := editorValidateFile(path); err != nil {
		return "", err
	}
	if editorIsConverted(path) {
		// OpenHands converts these to Markdown with Python libraries this server does not have.
		return "", editorError(fmt.Sprintf(
			"Error in converting file to Markdown: this runtime cannot convert %s files. Please use Python code to read %s",
			editorSuffix(path), path))
	}
	text, _, err := editorReadFile(path)
	if err != nil {
		return "", err
	}
	if len(viewRange) == 0 {
		return editorCatN(text, path, 1), nil
	}

	rangeText := editorIntList(viewRange)
	if len(viewRange) != 2 {
		return "", editorInvalidParam("view_range", rangeText, "It should be a list of two integers.")
	}
	n := len(filesSplitLines(text))
	start, end := viewRange[0], viewRange[1]
	if start < 1 || start > n {
		return "", editorInvalidParam("view_range", rangeText, fmt.Sprintf(
			"Its first element `%d` should be within the range of lines of the file: %s.", start, editorIntList([]int{1, n})))
	}
	if end > n {
		return "", editorInvalidParam("view_range", rangeText, fmt.Sprintf(
			"Its second element `%d` should be smaller than the number of lines in the file: `%d`.", end, n))
	}
	if end != -1 && end < start {
		return "", editorInvalidParam("view_range", rangeText, fmt.Sprintf(
			"Its second element `%d` should be greater than or equal to the first element `%d`.", end, start))
	}
	if end == -1 {
		end = n
	}
	snippet := strings.TrimSuffix(editorLineRange(text, start, end), "\n")
	return editorCatN(snippet, path, start), nil
}

// editorCatN numbers the lines of text from first on, as `cat -n` does, under a header naming
// what is shown. The text is split on "\n", so text ending in a newline shows a last empty line.
func editorCatN(text, description string, first int) string {
	text = editorClip(text, editorFileClippedNotice)
	var b strings.Builder
	b.Grow(len(text) + len(text)/8 + 64)
	b.WriteString("Here's the result of running `cat -n` on " + description + ":\n")
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%6d\t%s", first+i, line)
	}
	b.WriteByte('\n')
	return b.String()
}

// editorClip cuts s after editorMaxOutput characters and appends notice.
func editorClip(s, notice string) string {
	if len(s) <= editorMaxOutput {
		return s
	}
	count := 0
	for i := range s {
		if count == editorMaxOutput {
			return s[:i] + notice
		}
		count++
	}
	return s
}

// editorViewDir lists path and its entries two levels deep, hidden ones excluded, sorted, with
// directories marked by a trailing slash and a note counting the hidden entries of path itself.
// Symlinks are followed, as `find -L` does; unreadable directories are listed without contents.
func editorViewDir(path string) string {
	hidden := 0
	paths := []string{path}
	entries, _ := os.ReadDir(path)
	for _, entry := range entries {
		if strings.HasPrefix(entry.Name(), ".") {
			hidden++
			continue
		}
		child := path + "/" + entry.Name()
		if path == "/" {
			child = "/" + entry.Name()
		}
		paths = append(paths, child)
		if !editorIsDir(child) {
			continue
		}
		grandchildren, _ := os.ReadDir(child)
		for _, g := range grandchildren {
			if !strings.HasPrefix(g.Name(), ".") {
				paths = append(paths, child+"/"+g.Name())
			}
		}
	}
	sort.Strings(paths)

	listing := editorClip(strings.Join(paths, "\n")+"\n", editorDirClippedNotice)
	listing = strings.TrimFunc(listing, unicode.IsSpace)
	lines := strings.Split(listing, "\n")
	for i, p := range lines {
		if editorIsDir(filepath.Clean(p)) {
			lines[i] = p + "/"
		}
	}
	out := fmt.Sprintf("Here's the files and directories up to 2 levels deep in %s, excluding hidden items:\n", path) +
		strings.Join(lines, "\n")
	if hidden > 0 {
		out += fmt.Sprintf("\n\n%d hidden files/directories in this directory are excluded. You can use 'ls -la %s' to see them.",
			hidden, path)
	}
	return out
}
