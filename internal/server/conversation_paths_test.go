package server

import (
	"slices"
	"testing"
)

func TestConfine(t *testing.T) {
	ws := "/workspace"
	for _, c := range []struct {
		in, abs, rel string
		ok           bool
	}{
		{"a.txt", "/workspace/a.txt", "a.txt", true},
		{"src/../b", "/workspace/b", "b", true},
		{"", "/workspace", ".", true},
		{".", "/workspace", ".", true},
		{"/workspace/x/y", "/workspace/x/y", "x/y", true},
		{"/workspace", "/workspace", ".", true},
		{"..", "", "", false},
		{"a/../../etc/passwd", "", "", false},
		{"/etc/passwd", "", "", false},
		{"/workspace/../etc", "", "", false},
		{"/workspace2/x", "", "", false},
		{"a\x00b", "", "", false},
	} {
		abs, rel, err := confine(ws, c.in)
		if (err == nil) != c.ok || abs != c.abs || rel != c.rel {
			t.Errorf("confine(%q) = %q %q %v", c.in, abs, rel, err)
		}
	}
}

func TestSafeUploadName(t *testing.T) {
	for in, want := range map[string]string{
		"a.txt":                  "a.txt",
		"dir/b.txt":              "dir/b.txt",
		"../../etc/passwd":       "etc/passwd",
		"/abs/x":                 "abs/x",
		`..\..\windows\evil.dll`: "windows/evil.dll",
		"./a/./b//c":             "a/b/c",
		"..":                     "",
		"":                       "",
	} {
		if got := safeUploadName(in); got != want {
			t.Errorf("safeUploadName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitignore(t *testing.T) {
	g := parseGitignore("# comment\n\n*.log\n!keep.log\nbuild/\n/root-only.txt\ndocs/*.tmp\n**/cache\nvendor/**/gen\n")
	for _, c := range []struct {
		path  string
		dir   bool
		match bool
	}{
		{"x.log", false, true},
		{"src/x.log", false, true},
		{"keep.log", false, false},
		{"build", true, true},
		{"build", false, false}, // a file named build is not the build/ directory
		{"src/build", true, true},
		{"build/out.o", false, true},
		{"root-only.txt", false, true},
		{"src/root-only.txt", false, false},
		{"docs/a.tmp", false, true},
		{"other/docs/a.tmp", false, false},
		{"a/b/cache", true, true},
		{"cache", false, true},
		{"vendor/x/y/gen", false, true},
		{"vendor/gen", false, true},
		{"main.go", false, false},
	} {
		if got := g.match(c.path, c.dir); got != c.match {
			t.Errorf("match(%q, dir=%v) = %v, want %v", c.path, c.dir, got, c.match)
		}
	}
}

func TestParsePorcelainV2(t *testing.T) {
	out := "1 .M N... 100644 100644 100644 aaa bbb hello.txt\n" +
		"1 A. N... 000000 100644 100644 000 ccc new.txt\n" +
		"1 D. N... 100644 000000 000000 ddd 000 staged-gone.txt\n" +
		"1 .D N... 100644 100644 000000 ddd ddd gone.txt\n" +
		"2 R. N... 100644 100644 100644 eee eee R100 moved name.txt\told name.txt\n" +
		"u UU N... 100644 100644 100644 100644 f1 f2 f3 conflict.txt\n" +
		"? \"tab\\there.txt\"\n" +
		"? untracked dir/file.txt\n" +
		"# branch.oid abc\n"
	want := []gitChange{{"M", "hello.txt"}, {"A", "new.txt"}, {"D", "staged-gone.txt"}, {"D", "gone.txt"},
		{"R", "moved name.txt"}, {"U", "conflict.txt"}, {"A", "tab\there.txt"}, {"A", "untracked dir/file.txt"}}
	if got := parsePorcelainV2(out); !slices.Equal(got, want) {
		t.Errorf("parsePorcelainV2:\n got %v\nwant %v", got, want)
	}
}
