package actionserver

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
)

func filesTestRead(t *testing.T, f *Files, a events.FileReadAction) events.Observation {
	t.Helper()
	if a.ImplSource == "" {
		a.ImplSource = events.ImplSourceDefault
	}
	return f.Read(context.Background(), &a)
}

func filesTestError(t *testing.T, obs events.Observation) string {
	t.Helper()
	eo, ok := obs.(*events.ErrorObservation)
	if !ok {
		t.Fatalf("got %T %#v, want an error observation", obs, obs)
	}
	return eo.Content
}

func filesTestWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFilesReadWindow(t *testing.T) {
	f, dir := editorTestFiles(t)
	p := filepath.Join(dir, "five.txt")
	filesTestWriteFile(t, p, "l0\nl1\r\nl2\nl3\nl4\n")
	// Expected windows are those of OpenHands' read_lines on the same file.
	cases := []struct {
		start, end int
		want       string
	}{
		{0, -1, "l0\nl1\nl2\nl3\nl4\n"},
		{2, -1, "l2\nl3\nl4\n"},
		{9, -1, ""},
		{-3, -1, "l0\nl1\nl2\nl3\nl4\n"},
		{1, 3, "l1\nl2\n"},
		{0, 1, "l0\n"},
		{4, 5, "l3\nl4\n"},
		{5, 9, "l3\nl4\n"},
		{4, 2, "l3\n"},
		{3, 3, "l3\n"},
		{0, 0, "l0\n"},
		{-2, 2, "l0\nl1\n"},
		{7, 0, "l3\n"},
	}
	for _, c := range cases {
		obs := filesTestRead(t, f, events.FileReadAction{Path: p, Start: c.start, End: c.end})
		ro, ok := obs.(*events.FileReadObservation)
		if !ok {
			t.Fatalf("read [%d:%d]: %#v", c.start, c.end, obs)
		}
		if ro.Content != c.want || ro.Path != p || ro.ImplSource != events.ImplSourceDefault {
			t.Errorf("read [%d:%d]: %+v, want content %q", c.start, c.end, ro, c.want)
		}
	}
	empty := filepath.Join(dir, "empty.txt")
	filesTestWriteFile(t, empty, "")
	if ro, ok := filesTestRead(t, f, events.FileReadAction{Path: empty, Start: 0, End: 3}).(*events.FileReadObservation); !ok || ro.Content != "" {
		t.Errorf("read of an empty file: %#v", ro)
	}
}

func TestFilesReadErrors(t *testing.T) {
	dir := t.TempDir()
	cwd := filepath.Join(dir, "sub")
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	f := NewFiles(FilesOptions{WorkDir: dir, Cwd: func() string { return cwd }})
	bin := filepath.Join(cwd, "prog")
	if err := os.WriteFile(bin, []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00"), 0o755); err != nil {
		t.Fatal(err)
	}
	latin := filepath.Join(cwd, "latin.txt")
	filesTestWriteFile(t, latin, "caf\xe9 au lait\n")
	cases := []struct {
		name, path, want string
	}{
		{"missing relative", "missing.txt", "File not found: " + cwd + "/missing.txt. Your current working directory is " + cwd + "."},
		{"missing absolute", dir + "/gone.txt", "File not found: " + dir + "/gone.txt. Your current working directory is " + cwd + "."},
		{"directory", ".", "Path is a directory: " + cwd + ". You can only read files"},
		{"binary", "prog", "ERROR_BINARY_FILE"},
		{"not utf-8", "latin.txt", "File could not be decoded as utf-8: " + latin + "."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := filesTestError(t, filesTestRead(t, f, events.FileReadAction{Path: c.path, End: -1})); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// The editor view refuses binaries with the same error observation.
	obs := filesTestRead(t, f, events.FileReadAction{Path: bin, End: -1, ImplSource: events.ImplSourceOHACI})
	if got := filesTestError(t, obs); got != "ERROR_BINARY_FILE" {
		t.Errorf("oh_aci read of a binary: %q", got)
	}
	eo := editorTestEdit(t, f, events.FileEditAction{Path: bin, Command: "view"})
	if want := "ERROR:\nFile validation failed for " + bin + ": File appears to be binary and this file type cannot be read or edited by this tool."; eo.Content != want {
		t.Errorf("edit view of a binary:\n got %q\nwant %q", eo.Content, want)
	}
}

func TestFilesReadMediaAsDataURL(t *testing.T) {
	f, dir := editorTestFiles(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	for name, mime := range map[string]string{"a.png": "image/png", "b.JPG": "image/jpeg", "c.pdf": "application/pdf", "d.webm": "video/webm"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		ro, ok := filesTestRead(t, f, events.FileReadAction{Path: p, End: -1}).(*events.FileReadObservation)
		if want := "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(png); !ok || ro.Content != want {
			t.Errorf("%s: %#v, want %q", name, ro, want)
		}
	}
}

func TestFilesWrite(t *testing.T) {
	dir := t.TempDir()
	f := NewFiles(FilesOptions{WorkDir: dir})
	write := func(path, content string, start, end int) events.Observation {
		return f.Write(context.Background(), &events.FileWriteAction{Path: path, Content: content, Start: start, End: end})
	}
	for _, c := range []struct{ content, want string }{{"a", "a\n"}, {"a\n", "a\n\n"}, {"", "\n"}, {"x\ny", "x\ny\n"}} {
		p := filepath.Join(dir, "new", strings.ReplaceAll(c.content, "\n", "_")+"f.txt")
		obs := write(p, c.content, 0, -1)
		if wo, ok := obs.(*events.FileWriteObservation); !ok || wo.Path != p || wo.Content != "" {
			t.Fatalf("write %q: %#v", c.content, obs)
		}
		if got := editorTestContent(t, p); got != c.want {
			t.Errorf("new file from %q: %q, want %q", c.content, got, c.want)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o664 {
			t.Errorf("new file mode %v, want 0664", fi.Mode().Perm())
		}
	}

	// Relative paths resolve against WorkDir when there is no shell cwd; parents are created.
	obs := write("deep/er/rel.txt", "hi", 0, -1)
	if wo, ok := obs.(*events.FileWriteObservation); !ok || wo.Path != filepath.Join(dir, "deep/er/rel.txt") {
		t.Fatalf("relative write: %#v", obs)
	}

	// Windows into an existing file, as OpenHands' insert_lines; the file keeps its mode.
	p := filepath.Join(dir, "five.txt")
	cases := []struct {
		start, end int
		want       string
	}{
		{0, -1, "X\nY\n"},
		{1, 3, "l0\nX\nY\nl3\nl4\n"},
		{2, -1, "l0\nl1\nX\nY\n"},
		{0, 2, "X\nY\nl2\nl3\nl4\n"},
		{-1, -1, "l0\nl1\nl2\nl3\nX\nY\n"},
		{1, -2, "l0\nX\nY\nl3\nl4\n"},
		{9, 9, "l0\nl1\nl2\nl3\nl4\nX\nY\n"},
	}
	for _, c := range cases {
		filesTestWriteFile(t, p, "l0\nl1\nl2\nl3\nl4\n")
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if obs := write(p, "X\nY", c.start, c.end); obs.ObservationType() != events.ObservationWrite {
			t.Fatalf("write [%d:%d]: %#v", c.start, c.end, obs)
		}
		if got := editorTestContent(t, p); got != c.want {
			t.Errorf("write [%d:%d]: %q, want %q", c.start, c.end, got, c.want)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("existing file mode changed to %v", fi.Mode().Perm())
		}
	}

	if got := filesTestError(t, write(dir, "x", 0, -1)); got != "Path is a directory: "+dir+". You can only write to files" {
		t.Errorf("write to a directory: %q", got)
	}
	latin := filepath.Join(dir, "latin.txt")
	filesTestWriteFile(t, latin, "caf\xe9\n")
	if got := filesTestError(t, write(latin, "x", 0, -1)); got != "File could not be decoded as utf-8: "+latin {
		t.Errorf("write over a non-UTF-8 file: %q", got)
	}
}

func TestFilesEditKeepsEncodingAndLineEnds(t *testing.T) {
	f, dir := editorTestFiles(t)
	crlf := filepath.Join(dir, "crlf.txt")
	filesTestWriteFile(t, crlf, "one\r\ntwo\r\n")
	eo := editorTestEdit(t, f, events.FileEditAction{Path: crlf, Command: "str_replace", OldStr: editorStr("one\ntwo"), NewStr: editorStr("1\n2")})
	if strings.HasPrefix(eo.Content, "ERROR") {
		t.Fatal(eo.Content)
	}
	if got := editorTestContent(t, crlf); got != "1\r\n2\r\n" {
		t.Errorf("CRLF file after an edit: %q", got)
	}
	latin := filepath.Join(dir, "latin.txt")
	filesTestWriteFile(t, latin, "caf\xe9\n")
	if got := editorTestView(t, f, latin, nil); !strings.Contains(got, "     1\tcafé\n") {
		t.Errorf("view of a Latin-1 file: %q", got)
	}
	editorTestEdit(t, f, events.FileEditAction{Path: latin, Command: "insert", InsertLine: editorInt(1), NewStr: editorStr("crème")})
	if got := editorTestContent(t, latin); got != "caf\xe9\ncr\xe8me\n" {
		t.Errorf("Latin-1 file after an insert: %q", got)
	}
	eo = editorTestEdit(t, f, events.FileEditAction{Path: latin, Command: "insert", InsertLine: editorInt(0), NewStr: editorStr("€")})
	if want := "ERROR:\nRan into 'latin-1' codec can't encode character '\\u20ac' in position 0: ordinal not in range(256) while trying to write to " + latin; eo.Content != want {
		t.Errorf("unencodable insert:\n got %q\nwant %q", eo.Content, want)
	}
}

func TestFilesEditRefusesLLMBasedEdits(t *testing.T) {
	f, dir := editorTestFiles(t)
	obs := f.Edit(context.Background(), &events.FileEditAction{Path: filepath.Join(dir, "a.py"), Content: "x = 1\n", Start: 1, End: -1, ImplSource: events.ImplSourceLLMBasedEdit})
	if got := filesTestError(t, obs); !strings.Contains(got, "LLM-based edits are done by the backend") {
		t.Errorf("llm_based_edit: %q", got)
	}
}

func TestFilesList(t *testing.T) {
	dir := t.TempDir()
	f := NewFiles(FilesOptions{WorkDir: dir, Cwd: func() string { return "/" }})
	for _, d := range []string{"beta", "Alpha", ".git", "zeta/inner"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"b.txt", "A.txt", ".env", "c.TXT", "zeta/inner/deep.txt", "zeta/z.txt"} {
		filesTestWriteFile(t, filepath.Join(dir, p), "x")
	}
	if err := os.Symlink("beta", filepath.Join(dir, "link-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	want := []string{".git/", "Alpha/", "beta/", "link-dir/", "zeta/", ".env", "A.txt", "b.txt", "c.TXT"}
	for _, p := range []string{"", dir, dir + "/"} {
		if got := f.List(p); !reflect.DeepEqual(got, want) {
			t.Errorf("List(%q) = %q, want %q", p, got, want)
		}
	}
	if got := f.List("zeta"); !reflect.DeepEqual(got, []string{"inner/", "z.txt"}) {
		t.Errorf("List(relative) = %q", got)
	}
	for _, p := range []string{"missing", filepath.Join(dir, "b.txt"), filepath.Join(dir, "broken")} {
		if got := f.List(p); got == nil || len(got) != 0 {
			t.Errorf("List(%q) = %#v, want an empty non-nil list", p, got)
		}
	}
	empty := filepath.Join(dir, "beta")
	if got := f.List(empty); got == nil || len(got) != 0 {
		t.Errorf("List(empty dir) = %#v, want an empty non-nil list", got)
	}
}

func TestFilesBinaryHeuristic(t *testing.T) {
	cases := []struct {
		name   string
		chunk  string
		binary bool
	}{
		{"empty", "", false},
		{"ascii", "package main\n\nfunc main() {}\n", false},
		{"utf-8", strings.Repeat("日本語のテキスト ", 60), false},
		{"utf-8 cut mid-character", strings.Repeat("é", 100)[:199], false},
		{"latin-1", "caf\xe9 cr\xe8me br\xfbl\xe9e\n", false},
		{"nul in ascii", "abc\x00def", true},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", true},
		{"control characters", strings.Repeat("\x01\x02\x03\x04", 50), true},
		{"high bytes", strings.Repeat("\x80\x81\xfe\xfd", 50), true},
		{"some high bytes", strings.Repeat("\xc3\x28\xa0\xa1", 50), false},
	}
	for _, c := range cases {
		if got := filesBinaryChunk([]byte(c.chunk)); got != c.binary {
			t.Errorf("%s: binary = %v, want %v", c.name, got, c.binary)
		}
	}
}
