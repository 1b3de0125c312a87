package actionserver

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
)

// editorTestFiles returns Files working in a fresh directory, and that directory.
func editorTestFiles(t *testing.T) (*Files, string) {
	t.Helper()
	dir := t.TempDir()
	f := NewFiles(FilesOptions{WorkDir: dir})
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f, dir
}

func editorStr(s string) *string { return &s }
func editorInt(n int) *int       { return &n }

// editorTestWrite writes content with a write action, as OpenHands' tests do (so the file ends
// with a newline).
func editorTestWrite(t *testing.T, f *Files, path, content string) {
	t.Helper()
	obs := f.Write(context.Background(), &events.FileWriteAction{Path: path, Content: content, End: -1})
	if _, ok := obs.(*events.FileWriteObservation); !ok {
		t.Fatalf("write %s: %#v", path, obs)
	}
}

func editorTestEdit(t *testing.T, f *Files, a events.FileEditAction) *events.FileEditObservation {
	t.Helper()
	if a.ImplSource == "" {
		a.ImplSource = events.ImplSourceOHACI
	}
	obs := f.Edit(context.Background(), &a)
	eo, ok := obs.(*events.FileEditObservation)
	if !ok {
		t.Fatalf("edit %+v: got %T %#v", a, obs, obs)
	}
	if eo.Diff == nil {
		t.Fatalf("edit %+v: diff is nil, want a string", a)
	}
	if eo.ImplSource != events.ImplSourceOHACI || eo.PrevExist || eo.Path != a.Path {
		t.Fatalf("edit %+v: extras %+v", a, eo)
	}
	return eo
}

func editorTestView(t *testing.T, f *Files, path string, viewRange []int) string {
	t.Helper()
	obs := f.Read(context.Background(), &events.FileReadAction{Path: path, End: -1, ImplSource: events.ImplSourceOHACI, ViewRange: viewRange})
	ro, ok := obs.(*events.FileReadObservation)
	if !ok {
		t.Fatalf("view %s: got %T %#v", path, obs, obs)
	}
	if ro.ImplSource != events.ImplSourceOHACI || ro.Path != path {
		t.Fatalf("view %s: extras %+v", path, ro)
	}
	return ro.Content
}

func editorTestContent(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEditorViewFileCatN(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "test.txt")
	editorTestWrite(t, f, p, "This is a test file.\nThis file is for testing purposes.")

	want := "Here's the result of running `cat -n` on " + p + ":\n" +
		"     1\tThis is a test file.\n" +
		"     2\tThis file is for testing purposes.\n" +
		"     3\t\n"
	if got := editorTestView(t, f, p, nil); got != want {
		t.Errorf("view:\n got %q\nwant %q", got, want)
	}
	// The same through an edit action with command view.
	eo := editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "view"})
	if eo.Content != want || *eo.Diff != "" {
		t.Errorf("edit view: content %q diff %q", eo.Content, *eo.Diff)
	}
	// Paths are spelled as pathlib would in the text, raw in the observation.
	if got := editorTestView(t, f, dir+"//./test.txt", nil); !strings.HasPrefix(got, "Here's the result of running `cat -n` on "+p+":\n") {
		t.Errorf("view of an unclean path: %q", got)
	}
}

func TestEditorViewRange(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "five.txt")
	editorTestWrite(t, f, p, "one\ntwo\nthree\nfour\nfive")
	head := "Here's the result of running `cat -n` on " + p + ":\n"
	cases := []struct {
		name  string
		view  []int
		want  string
		isErr bool
	}{
		{"middle", []int{2, 3}, head + "     2\ttwo\n     3\tthree\n", false},
		{"to the end", []int{4, -1}, head + "     4\tfour\n     5\tfive\n", false},
		{"one line", []int{5, 5}, head + "     5\tfive\n", false},
		{"empty range means all", []int{}, head + "     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n     5\tfive\n     6\t\n", false},
		{"start below one", []int{0, 2}, "ERROR:\nInvalid `view_range` parameter: [0, 2]. Its first element `0` should be within the range of lines of the file: [1, 5].", true},
		{"start past the end", []int{6, -1}, "ERROR:\nInvalid `view_range` parameter: [6, -1]. Its first element `6` should be within the range of lines of the file: [1, 5].", true},
		{"end past the end", []int{1, 9}, "ERROR:\nInvalid `view_range` parameter: [1, 9]. Its second element `9` should be smaller than the number of lines in the file: `5`.", true},
		{"end before start", []int{3, 2}, "ERROR:\nInvalid `view_range` parameter: [3, 2]. Its second element `2` should be greater than or equal to the first element `3`.", true},
		{"not two", []int{1}, "ERROR:\nInvalid `view_range` parameter: [1]. It should be a list of two integers.", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := editorTestView(t, f, p, c.view); got != c.want {
				t.Errorf("view_range %v:\n got %q\nwant %q", c.view, got, c.want)
			}
		})
	}
	got := editorTestView(t, f, dir, []int{1, 2})
	want := "ERROR:\nInvalid `view_range` parameter: [1, 2]. The `view_range` parameter is not allowed when `path` points to a directory."
	if got != want {
		t.Errorf("view_range on a directory:\n got %q\nwant %q", got, want)
	}
}

func TestEditorViewDirectory(t *testing.T) {
	f, dir := editorTestFiles(t)
	editorTestWrite(t, f, filepath.Join(dir, "test.txt"), "This is a test file.\nThis file is for testing purposes.")
	if err := os.Mkdir(filepath.Join(dir, ".downloads"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "Here's the files and directories up to 2 levels deep in " + dir + ", excluding hidden items:\n" +
		dir + "/\n" +
		dir + "/test.txt\n\n" +
		"1 hidden files/directories in this directory are excluded. You can use 'ls -la " + dir + "' to see them."
	if got := editorTestView(t, f, dir, nil); got != want {
		t.Errorf("view dir:\n got %q\nwant %q", got, want)
	}
	// A trailing slash is dropped, as pathlib does.
	if got := editorTestView(t, f, dir+"/", nil); got != want {
		t.Errorf("view dir/:\n got %q\nwant %q", got, want)
	}

	// Two levels, hidden entries excluded at both, deeper entries not shown, no note without
	// hidden entries at the top.
	sub := filepath.Join(dir, "sub")
	for _, d := range []string{"sub/a/deep", "sub/b", "sub/.git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"sub/z.txt", "sub/a/x.txt", "sub/a/.hidden", "sub/a/deep/y.txt", "sub/.git/config"} {
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want = "Here's the files and directories up to 2 levels deep in " + sub + ", excluding hidden items:\n" +
		sub + "/\n" +
		sub + "/a/\n" +
		sub + "/a/deep/\n" +
		sub + "/a/x.txt\n" +
		sub + "/b/\n" +
		sub + "/z.txt\n\n" +
		"1 hidden files/directories in this directory are excluded. You can use 'ls -la " + sub + "' to see them."
	if got := editorTestView(t, f, sub, nil); got != want {
		t.Errorf("view sub:\n got %q\nwant %q", got, want)
	}
	empty := filepath.Join(sub, "b")
	want = "Here's the files and directories up to 2 levels deep in " + empty + ", excluding hidden items:\n" + empty + "/"
	if got := editorTestView(t, f, empty, nil); got != want {
		t.Errorf("view empty dir:\n got %q\nwant %q", got, want)
	}
}

func TestEditorViewLargeFileIsClipped(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "large_test.txt")
	editorTestWrite(t, f, p, strings.Repeat("Line 1\n", 16000))
	got := editorTestView(t, f, p, nil)
	if !strings.Contains(got, "Due to the max output limit, only part of this file has been shown to you.") {
		t.Fatalf("no clipping notice in %d characters", len(got))
	}
	if !strings.HasSuffix(got, editorFileClippedNotice+"\n") {
		t.Errorf("the notice should end the output: %q", got[len(got)-200:])
	}
	// 16 000 characters of "Line 1\n" are 2285 full lines and five characters of the next.
	if !strings.Contains(got, "  2285\tLine 1\n  2286\tLine <response clipped>") {
		t.Errorf("the notice should follow the cut line: %q", got[len(got)-400:])
	}
	// Multibyte characters are counted as characters, not bytes.
	p2 := filepath.Join(dir, "wide.txt")
	if err := os.WriteFile(p2, []byte(strings.Repeat("é", editorMaxOutput)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := editorTestView(t, f, p2, nil); strings.Contains(got, "response clipped") {
		t.Errorf("16 000 two-byte characters should not be clipped")
	}
}

func TestEditorCreate(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "new_file.txt")
	eo := editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "create", FileText: editorStr("New file content")})
	if eo.Content != "File created successfully at: "+p {
		t.Errorf("content %q", eo.Content)
	}
	if got := editorTestContent(t, p); got != "New file content" {
		t.Errorf("file %q, want the text verbatim", got)
	}
	wantDiff := "--- " + p + "\n+++ " + p + "\n@@ -1 +1 @@\n-\n+New file content"
	if *eo.Diff != wantDiff {
		t.Errorf("diff %q, want %q", *eo.Diff, wantDiff)
	}
	if eo.OldContent != nil || eo.NewContent != nil {
		t.Errorf("old/new content should be the action's old_str/new_str (nil): %v %v", eo.OldContent, eo.NewContent)
	}

	empty := filepath.Join(dir, "empty.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: empty, Command: "create", FileText: editorStr("")})
	if got := editorTestView(t, f, empty, nil); got != "Here's the result of running `cat -n` on "+empty+":\n     1\t\n" {
		t.Errorf("view of an empty file: %q", got)
	}
}

func TestEditorErrors(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "test.txt")
	editorTestWrite(t, f, p, "Line 1\nLine 2")
	missing := filepath.Join(dir, "nonexistent.txt")
	pdf := filepath.Join(dir, "doc.PDF")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		a    events.FileEditAction
		want string
	}{
		{"create without file_text", events.FileEditAction{Path: filepath.Join(dir, "none.txt"), Command: "create"},
			"ERROR:\nParameter `file_text` is required for command: create."},
		{"create over a file", events.FileEditAction{Path: p, Command: "create", FileText: editorStr("New content")},
			"ERROR:\nInvalid `path` parameter: " + p + ". File already exists at: " + p + ". Cannot overwrite files using command `create`."},
		{"create in a missing directory", events.FileEditAction{Path: dir + "/no/such.txt", Command: "create", FileText: editorStr("x")},
			"ERROR:\nRan into [Errno 2] No such file or directory: '" + dir + "/no/such.txt' while trying to write to " + dir + "/no/such.txt"},
		{"relative path with a suggestion", events.FileEditAction{Path: "test.txt", Command: "view"},
			"ERROR:\nInvalid `path` parameter: test.txt. The path should be an absolute path, starting with `/`. Maybe you meant " + p + "?"},
		{"relative path", events.FileEditAction{Path: "nope.txt", Command: "str_replace", OldStr: editorStr("a")},
			"ERROR:\nInvalid `path` parameter: nope.txt. The path should be an absolute path, starting with `/`."},
		{"missing path", events.FileEditAction{Path: missing, Command: "view"},
			"ERROR:\nInvalid `path` parameter: " + missing + ". The path " + missing + " does not exist. Please provide a valid path."},
		{"edit a directory", events.FileEditAction{Path: dir, Command: "insert", InsertLine: editorInt(0), NewStr: editorStr("x")},
			"ERROR:\nInvalid `path` parameter: " + dir + ". The path " + dir + " is a directory and only the `view` command can be used on directories."},
		{"edit a converted binary", events.FileEditAction{Path: pdf, Command: "str_replace", OldStr: editorStr("a")},
			"ERROR:\nInvalid `path` parameter: " + pdf + ". The path " + pdf + " points to a binary file (.PDF) and only the `view` command can be used on supported binary files."},
		{"str_replace without old_str", events.FileEditAction{Path: p, Command: "str_replace", NewStr: editorStr("new content")},
			"ERROR:\nParameter `old_str` is required for command: str_replace."},
		{"str_replace to the same text", events.FileEditAction{Path: p, Command: "str_replace", OldStr: editorStr("test file"), NewStr: editorStr("test file")},
			"ERROR:\nInvalid `new_str` parameter: test file. No replacement was performed. `new_str` and `old_str` must be different."},
		{"str_replace without a match", events.FileEditAction{Path: p, Command: "str_replace", OldStr: editorStr("Non-existent Line"), NewStr: editorStr("New Line")},
			"ERROR:\nNo replacement was performed, old_str `Non-existent Line` did not appear verbatim in " + p + "."},
		{"str_replace with two matches", events.FileEditAction{Path: p, Command: "str_replace", OldStr: editorStr("Line"), NewStr: editorStr("Row")},
			"ERROR:\nNo replacement was performed. Multiple occurrences of old_str `Line` in lines [1, 2]. Please ensure it is unique."},
		{"str_replace with an empty old_str", events.FileEditAction{Path: p, Command: "str_replace", OldStr: editorStr(""), NewStr: editorStr("sample")},
			"ERROR:\nNo replacement was performed. Multiple occurrences of old_str `` in lines [1, 2, 3]. Please ensure it is unique."},
		{"insert without insert_line", events.FileEditAction{Path: p, Command: "insert", NewStr: editorStr("Missing insert line")},
			"ERROR:\nParameter `insert_line` is required for command: insert."},
		{"insert without new_str", events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(1)},
			"ERROR:\nParameter `new_str` is required for command: insert."},
		{"insert past the end", events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(10), NewStr: editorStr("Invalid Insert")},
			"ERROR:\nInvalid `insert_line` parameter: 10. It should be within the range of allowed values: [0, 2]"},
		{"insert before the start", events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(-1), NewStr: editorStr("x")},
			"ERROR:\nInvalid `insert_line` parameter: -1. It should be within the range of allowed values: [0, 2]"},
		{"undo without history", events.FileEditAction{Path: p, Command: "undo_edit"},
			"ERROR:\nNo edit history found for " + p + "."},
		{"unknown command", events.FileEditAction{Path: p, Command: "append"},
			"ERROR:\nUnrecognized command append. The allowed commands for the oh_editor tool are: view, create, str_replace, insert, undo_edit"},
		{"view of a converted binary", events.FileEditAction{Path: pdf, Command: "view"},
			"ERROR:\nError in converting file to Markdown: this runtime cannot convert .PDF files. Please use Python code to read " + pdf},
	}
	before := editorTestContent(t, p)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eo := editorTestEdit(t, f, c.a)
			if eo.Content != c.want {
				t.Errorf("content:\n got %q\nwant %q", eo.Content, c.want)
			}
			if *eo.Diff != "" {
				t.Errorf("a failed edit has diff %q, want \"\"", *eo.Diff)
			}
		})
	}
	if got := editorTestContent(t, p); got != before {
		t.Errorf("failed edits changed the file: %q", got)
	}
}

func TestEditorStrReplace(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "test.txt")

	editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "create", FileText: editorStr("def test():\n\tprint(\"Hello, World!\")")})
	eo := editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "str_replace",
		OldStr: editorStr("def test():\n\tprint(\"Hello, World!\")"), NewStr: editorStr("def test():\n\tprint(\"Hello, Universe!\")")})
	want := "The file " + p + " has been edited. Here's the result of running `cat -n` on a snippet of " + p + ":\n" +
		"     1\tdef test():\n" +
		"     2\t\tprint(\"Hello, Universe!\")\n" +
		"Review the changes and make sure they are as expected. Edit the file again if necessary."
	if eo.Content != want {
		t.Errorf("content:\n got %q\nwant %q", eo.Content, want)
	}
	if *eo.OldContent != "def test():\n\tprint(\"Hello, World!\")" || *eo.NewContent != "def test():\n\tprint(\"Hello, Universe!\")" {
		t.Errorf("old/new content should be the action's strings: %q %q", *eo.OldContent, *eo.NewContent)
	}
	wantDiff := "--- " + p + "\n+++ " + p + "\n@@ -2 +2 @@\n-\tprint(\"Hello, World!\")\n+\tprint(\"Hello, Universe!\")"
	if *eo.Diff != wantDiff {
		t.Errorf("diff:\n got %q\nwant %q", *eo.Diff, wantDiff)
	}

	// The snippet starts three lines before the edit and ends four lines after its last line,
	// with one more empty numbered line as the last line shown ends with a newline.
	var lines []string
	for i := 1; i <= 12; i++ {
		lines = append(lines, "line "+string(rune('a'+i-1)))
	}
	long := filepath.Join(dir, "long.txt")
	editorTestWrite(t, f, long, strings.Join(lines, "\n"))
	eo = editorTestEdit(t, f, events.FileEditAction{Path: long, Command: "str_replace", OldStr: editorStr("line f"), NewStr: editorStr("line F\nline F2")})
	want = "The file " + long + " has been edited. Here's the result of running `cat -n` on a snippet of " + long + ":\n" +
		"     3\tline c\n     4\tline d\n     5\tline e\n     6\tline F\n     7\tline F2\n" +
		"     8\tline g\n     9\tline h\n    10\tline i\n    11\tline j\n    12\t\n" +
		"Review the changes and make sure they are as expected. Edit the file again if necessary."
	if eo.Content != want {
		t.Errorf("snippet:\n got %q\nwant %q", eo.Content, want)
	}
	wantDiff = "--- " + long + "\n+++ " + long + "\n@@ -6 +6,2 @@\n-line f\n+line F\n+line F2"
	if *eo.Diff != wantDiff {
		t.Errorf("diff:\n got %q\nwant %q", *eo.Diff, wantDiff)
	}

	// Deletion with an empty new_str; a missing new_str deletes too.
	del := filepath.Join(dir, "del.txt")
	editorTestWrite(t, f, del, "Line 1\nLine to remove\nLine 3")
	eo = editorTestEdit(t, f, events.FileEditAction{Path: del, Command: "str_replace", OldStr: editorStr("Line to remove\n"), NewStr: editorStr("")})
	if strings.Contains(eo.Content, "Line to remove") || !strings.Contains(eo.Content, "Line 1") || !strings.Contains(eo.Content, "Line 3") {
		t.Errorf("deletion: %q", eo.Content)
	}
	editorTestEdit(t, f, events.FileEditAction{Path: del, Command: "str_replace", OldStr: editorStr("Line 3\n")})
	if got := editorTestContent(t, del); got != "Line 1\n" {
		t.Errorf("after deletions: %q", got)
	}

	// Multi-line blocks report the line each occurrence starts on.
	block := "def example():\n    print(\"Hello\")\n    return True"
	multi := filepath.Join(dir, "multi.txt")
	editorTestWrite(t, f, multi, block+"\n\nprint('separator')\n\n"+block)
	eo = editorTestEdit(t, f, events.FileEditAction{Path: multi, Command: "str_replace", OldStr: editorStr(block), NewStr: editorStr("x")})
	if !strings.Contains(eo.Content, "Multiple occurrences of old_str") || !strings.Contains(eo.Content, "[1, 7]") {
		t.Errorf("multi-line occurrences: %q", eo.Content)
	}

	// An empty old_str on a three-line file written by write matches on four lines.
	three := filepath.Join(dir, "three.txt")
	editorTestWrite(t, f, three, "Line 1\nLine 2\nLine 3")
	eo = editorTestEdit(t, f, events.FileEditAction{Path: three, Command: "str_replace", OldStr: editorStr(""), NewStr: editorStr("New string")})
	if want := "ERROR:\nNo replacement was performed. Multiple occurrences of old_str `` in lines [1, 2, 3, 4]. Please ensure it is unique."; eo.Content != want {
		t.Errorf("empty old_str:\n got %q\nwant %q", eo.Content, want)
	}

	// In an empty file an empty old_str matches once, so the replacement happens.
	blank := filepath.Join(dir, "blank.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: blank, Command: "create", FileText: editorStr("")})
	eo = editorTestEdit(t, f, events.FileEditAction{Path: blank, Command: "str_replace", OldStr: editorStr(""), NewStr: editorStr("filled")})
	if got := editorTestContent(t, blank); got != "filled" || !strings.Contains(eo.Content, "     1\tfilled\n") {
		t.Errorf("empty old_str in an empty file: file %q, output %q", got, eo.Content)
	}

	// Matches do not overlap: "aa" occurs once in "aaa".
	overlap := filepath.Join(dir, "overlap.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: overlap, Command: "create", FileText: editorStr("aaa")})
	editorTestEdit(t, f, events.FileEditAction{Path: overlap, Command: "str_replace", OldStr: editorStr("aa"), NewStr: editorStr("b")})
	if got := editorTestContent(t, overlap); got != "ba" {
		t.Errorf("overlapping match: %q", got)
	}
}

func TestEditorInsert(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "test.txt")
	editorTestWrite(t, f, p, "Line 1\nLine 2")
	eo := editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(1), NewStr: editorStr("Inserted line")})
	want := "The file " + p + " has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n" +
		"     1\tLine 1\n     2\tInserted line\n     3\tLine 2\n     4\t\n" +
		"Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary."
	if eo.Content != want {
		t.Errorf("content:\n got %q\nwant %q", eo.Content, want)
	}
	if got := editorTestContent(t, p); got != "Line 1\nInserted line\nLine 2\n" {
		t.Errorf("file %q", got)
	}
	wantDiff := "--- " + p + "\n+++ " + p + "\n@@ -1,0 +2 @@\n+Inserted line"
	if *eo.Diff != wantDiff {
		t.Errorf("diff:\n got %q\nwant %q", *eo.Diff, wantDiff)
	}
	if eo.OldContent != nil || *eo.NewContent != "Inserted line" {
		t.Errorf("old/new content: %v %q", eo.OldContent, *eo.NewContent)
	}

	// An empty new_str inserts an empty line.
	e := filepath.Join(dir, "empty.txt")
	editorTestWrite(t, f, e, "Line 1\nLine 2")
	eo = editorTestEdit(t, f, events.FileEditAction{Path: e, Command: "insert", InsertLine: editorInt(1), NewStr: editorStr("")})
	for _, s := range []string{"1\tLine 1", "2\t\n", "3\tLine 2"} {
		if !strings.Contains(eo.Content, s) {
			t.Errorf("insert of an empty string: %q lacks %q", eo.Content, s)
		}
	}

	// At the top, and after a last line without a newline.
	q := filepath.Join(dir, "q.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: q, Command: "create", FileText: editorStr("a\nb")})
	editorTestEdit(t, f, events.FileEditAction{Path: q, Command: "insert", InsertLine: editorInt(0), NewStr: editorStr("top")})
	editorTestEdit(t, f, events.FileEditAction{Path: q, Command: "insert", InsertLine: editorInt(3), NewStr: editorStr("c\nd")})
	if got := editorTestContent(t, q); got != "top\na\nb\nc\nd\n" {
		t.Errorf("file %q", got)
	}
}

func TestEditorUndo(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "test.txt")
	editorTestWrite(t, f, p, "This is a test file.")
	eo := editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "str_replace", OldStr: editorStr("test"), NewStr: editorStr("sample")})
	if !strings.Contains(eo.Content, "This is a sample file.") {
		t.Fatalf("edit: %q", eo.Content)
	}
	editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(0), NewStr: editorStr("# head")})
	eo = editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "undo_edit"})
	want := "Last edit to " + p + " undone successfully. Here's the result of running `cat -n` on " + p + ":\n" +
		"     1\tThis is a sample file.\n     2\t\n"
	if eo.Content != want {
		t.Errorf("undo insert:\n got %q\nwant %q", eo.Content, want)
	}
	if wantDiff := "--- " + p + "\n+++ " + p + "\n@@ -1 +0,0 @@\n-# head"; *eo.Diff != wantDiff {
		t.Errorf("undo diff:\n got %q\nwant %q", *eo.Diff, wantDiff)
	}
	eo = editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "undo_edit"})
	if !strings.Contains(eo.Content, "Last edit to") || !strings.Contains(eo.Content, "This is a test file.") {
		t.Errorf("undo str_replace: %q", eo.Content)
	}
	if got := editorTestContent(t, p); got != "This is a test file.\n" {
		t.Errorf("file after undos: %q", got)
	}
	eo = editorTestEdit(t, f, events.FileEditAction{Path: p, Command: "undo_edit"})
	if eo.Content != "ERROR:\nNo edit history found for "+p+"." {
		t.Errorf("third undo: %q", eo.Content)
	}

	// Undo after create rewrites the created text; the file stays.
	c := filepath.Join(dir, "created.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: c, Command: "create", FileText: editorStr("v1")})
	if err := os.WriteFile(c, []byte("changed outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	eo = editorTestEdit(t, f, events.FileEditAction{Path: c, Command: "undo_edit"})
	if eo.Content != "Last edit to "+c+" undone successfully. Here's the result of running `cat -n` on "+c+":\n     1\tv1\n" {
		t.Errorf("undo create: %q", eo.Content)
	}
	if got := editorTestContent(t, c); got != "v1" {
		t.Errorf("file after undoing create: %q", got)
	}

	// Ten steps are kept per file.
	h := filepath.Join(dir, "history.txt")
	editorTestEdit(t, f, events.FileEditAction{Path: h, Command: "create", FileText: editorStr("0")})
	for i := 1; i <= 12; i++ {
		editorTestEdit(t, f, events.FileEditAction{Path: h, Command: "str_replace",
			OldStr: editorStr(strconv.Itoa(i - 1)), NewStr: editorStr(strconv.Itoa(i))})
	}
	undone := 0
	for ; undone < 20; undone++ {
		eo := editorTestEdit(t, f, events.FileEditAction{Path: h, Command: "undo_edit"})
		if strings.HasPrefix(eo.Content, "ERROR:") {
			break
		}
	}
	if undone != editorHistoryDepth {
		t.Errorf("undid %d edits, want %d", undone, editorHistoryDepth)
	}
	if got := editorTestContent(t, h); got != "2" {
		t.Errorf("after undoing everything kept: %q, want the text before the 3rd edit", got)
	}
}

// TestEditorDiff pins the edit diff against outputs of Python's difflib.unified_diff(n=0) with
// each line right-trimmed and joined with "\n", which is what openhands-aci sends.
func TestEditorDiff(t *testing.T) {
	const p = "/w/f.py"
	head := "--- " + p + "\n+++ " + p + "\n"
	// 250 lines, "}" on every other one: "}" is then a "popular" line that difflib's matcher
	// ignores when it looks for the longest match, which moves the second hunk.
	var popular, edited []string
	for i := range 250 {
		if i%2 == 0 {
			popular = append(popular, "}")
		} else {
			popular = append(popular, "x"+strconv.Itoa(i))
		}
	}
	edited = append(edited, popular[1:]...)
	edited = append(edited[:11], append([]string{"}"}, edited[11:]...)...)

	cases := []struct {
		name, before, after, want string
	}{
		{"unchanged", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"one line", "# Title", "# Project", head + "@@ -1 +1 @@\n-# Title\n+# Project"},
		{"created", "", "a\n", head + "@@ -0,0 +1 @@\n+a"},
		{"trailing whitespace trimmed", "x\n  \ny\t", "x\n\ny \t", head + "@@ -2,2 +2,2 @@\n-\n-y\n+\n+y"},
		{"several hunks", "a\nb\nc\nd\ne\nf\ng", "a\nB\nc\nd\ne\ng\nh", head + "@@ -2 +2 @@\n-b\n+B\n@@ -6 +5,0 @@\n-f\n@@ -7,0 +7 @@\n+h"},
		{"popular lines", strings.Join(popular, "\n"), strings.Join(edited, "\n"), head + "@@ -1 +0,0 @@\n-}\n@@ -13,0 +13 @@\n+}"},
	}
	// Past editorDiffExactLines the common head and tail are set aside first.
	big := make([]string, editorDiffExactLines)
	for i := range big {
		big[i] = "row " + strconv.Itoa(i)
	}
	bigEdited := append([]string{}, big...)
	bigEdited[15000] = "changed"
	bigEdited = append(bigEdited[:17000], bigEdited[17002:]...)
	cases = append(cases, struct{ name, before, after, want string }{
		"large file", strings.Join(big, "\n"), strings.Join(bigEdited, "\n"),
		head + "@@ -15001 +15001 @@\n-row 15000\n+changed\n@@ -17001,2 +17000,0 @@\n-row 17000\n-row 17001",
	})
	var wholly []string
	for i := range editorDiffExactLines {
		wholly = append(wholly, "new "+strconv.Itoa(i))
	}
	whollyDiff := editorUnifiedDiff("a\n"+strings.Join(big, "\n")+"\nz", "a\n"+strings.Join(wholly, "\n")+"\nz", p)
	if !strings.HasPrefix(whollyDiff, head+"@@ -2,20000 +2,20000 @@\n-row 0\n") || strings.Count(whollyDiff, "@@ ") != 1 {
		t.Errorf("a large change should be one hunk: %q…", whollyDiff[:200])
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := editorUnifiedDiff(c.before, c.after, p); got != c.want {
				t.Errorf("diff:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestEditorConcurrentCommands(t *testing.T) {
	f, dir := editorTestFiles(t)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			p := filepath.Join(dir, "f"+strconv.Itoa(i)+".txt")
			ctx := context.Background()
			f.Edit(ctx, &events.FileEditAction{Path: p, Command: "create", FileText: editorStr("a\nb\n"), ImplSource: events.ImplSourceOHACI})
			for j := range 20 {
				f.Edit(ctx, &events.FileEditAction{Path: p, Command: "insert", InsertLine: editorInt(1), NewStr: editorStr(strconv.Itoa(j)), ImplSource: events.ImplSourceOHACI})
				f.Read(ctx, &events.FileReadAction{Path: p, End: -1, ImplSource: events.ImplSourceOHACI})
				f.List(dir)
			}
			for range 20 {
				f.Edit(ctx, &events.FileEditAction{Path: p, Command: "undo_edit", ImplSource: events.ImplSourceOHACI})
			}
		}()
	}
	for range 8 {
		<-done
	}
	for i := range 8 {
		p := filepath.Join(dir, "f"+strconv.Itoa(i)+".txt")
		// Ten undos are kept: the last ten inserts are undone, the first ten stay.
		want := "a\n9\n8\n7\n6\n5\n4\n3\n2\n1\n0\nb\n"
		if got := editorTestContent(t, p); got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
}

// BenchmarkEditorUnifiedDiff measures the diff of a one-line edit, which every str_replace pays:
// in a file matched exactly as difflib does, and in a large one whose common head and tail are
// set aside first.
func BenchmarkEditorUnifiedDiff(b *testing.B) {
	for _, n := range []int{5000, 300000} {
		b.Run(strconv.Itoa(n)+" lines", func(b *testing.B) {
			lines := make([]string, n)
			for i := range lines {
				lines[i] = "\tfmt.Println(\"line\", " + strconv.Itoa(i%977) + ")"
			}
			before := strings.Join(lines, "\n")
			lines[n/2] = "changed"
			after := strings.Join(lines, "\n")
			b.ReportAllocs()
			for b.Loop() {
				if editorUnifiedDiff(before, after, "/w/big.go") == "" {
					b.Fatal("no diff")
				}
			}
		})
	}
}
