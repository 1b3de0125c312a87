package actionserver

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
)

// filesZipEntry is one entry of a test archive: a file (mode 0 means 0644), a directory (name
// ending in "/") or a symlink (link set).
type filesZipEntry struct {
	name, body, link string
	mode             fs.FileMode
}

func filesTestZip(t *testing.T, entries ...filesZipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.link != "":
			hdr.SetMode(fs.ModeSymlink | 0o777)
		case strings.HasSuffix(e.name, "/"):
			hdr.SetMode(fs.ModeDir | 0o755)
		case e.mode != 0:
			hdr.SetMode(e.mode)
		default:
			hdr.SetMode(0o644)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		body := e.body
		if e.link != "" {
			body = e.link
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filesTestUnzip returns name → content of every entry of a zip.
func filesTestUnzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(b)
	}
	return out
}

// filesTestTree returns relative path → content of the regular files under dir ("->target" for
// symlinks, "/" for directories).
func filesTestTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "->" + target
		case d.IsDir():
			out[rel] = "/"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFilesUploadPlain(t *testing.T) {
	f, dir := editorTestFiles(t)
	dest := filepath.Join(dir, "new", "dest")
	if err := f.Upload(dest, "a.txt", strings.NewReader("hello"), false); err != nil {
		t.Fatal(err)
	}
	if err := f.Upload(dest, "a.txt", strings.NewReader("replaced"), false); err != nil {
		t.Fatal(err)
	}
	if got := filesTestTree(t, dest); !reflect.DeepEqual(got, map[string]string{"a.txt": "replaced"}) {
		t.Errorf("tree %v", got)
	}

	bad := []struct {
		dest, name string
		recursive  bool
	}{
		{"relative/dir", "a.txt", false},
		{dest, "", false},
		{dest, "..", false},
		{dest, "sub/a.txt", false},
		{dest, "../a.txt", false},
		{dest, "dir", true},
	}
	for _, c := range bad {
		err := f.Upload(c.dest, c.name, strings.NewReader("x"), c.recursive)
		if !errors.Is(err, ErrBadPath) {
			t.Errorf("Upload(%q, %q, recursive=%v) = %v, want ErrBadPath", c.dest, c.name, c.recursive, err)
		}
	}
	if err := f.Upload(dest, "broken.zip", strings.NewReader("not a zip"), false); err == nil || errors.Is(err, ErrBadPath) || errors.Is(err, ErrOutsideRoot) {
		t.Errorf("a broken zip: %v, want a plain error", err)
	}
	if got := filesTestTree(t, dest); !reflect.DeepEqual(got, map[string]string{"a.txt": "replaced"}) {
		t.Errorf("failed uploads left %v", got)
	}
}

func TestFilesUploadZip(t *testing.T) {
	f, dir := editorTestFiles(t)
	archive := filesTestZip(t,
		filesZipEntry{name: "test_dir/"},
		filesZipEntry{name: "test_dir/a.txt", body: "A"},
		filesZipEntry{name: "test_dir/sub/run.sh", body: "#!/bin/sh\n", mode: 0o755},
		filesZipEntry{name: "test_dir/empty/"},
		filesZipEntry{name: "test_dir/link", link: "sub/run.sh"},
		filesZipEntry{name: "test_dir/up", link: "../test_dir/a.txt"},
	)
	want := map[string]string{
		"test_dir": "/", "test_dir/a.txt": "A", "test_dir/sub": "/", "test_dir/sub/run.sh": "#!/bin/sh\n",
		"test_dir/empty": "/", "test_dir/link": "->sub/run.sh", "test_dir/up": "->../test_dir/a.txt",
	}
	for _, c := range []struct {
		name      string
		recursive bool
	}{{"upload.zip", true}, {"files.zip", false}} {
		dest := filepath.Join(dir, c.name)
		if err := f.Upload(dest, c.name, bytes.NewReader(archive), c.recursive); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := filesTestTree(t, dest); !reflect.DeepEqual(got, want) {
			t.Errorf("%s extracted to %v, want %v", c.name, got, want)
		}
		if fi, err := os.Stat(filepath.Join(dest, "test_dir/sub/run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: the executable lost its mode: %v %v", c.name, fi.Mode(), err)
		}
	}
}

func TestFilesUploadZipSlipRefused(t *testing.T) {
	outside := t.TempDir()
	cases := []struct {
		name    string
		entries []filesZipEntry
	}{
		{"dot-dot entry", []filesZipEntry{{name: "ok.txt", body: "ok"}, {name: "../evil.txt", body: "evil"}}},
		{"nested dot-dot entry", []filesZipEntry{{name: "ok.txt", body: "ok"}, {name: "a/../../evil.txt", body: "evil"}}},
		{"absolute entry", []filesZipEntry{{name: "ok.txt", body: "ok"}, {name: outside + "/evil.txt", body: "evil"}}},
		{"absolute symlink", []filesZipEntry{{name: "ok.txt", body: "ok"}, {name: "passwd", link: "/etc/passwd"}}},
		{"climbing symlink", []filesZipEntry{{name: "ok.txt", body: "ok"}, {name: "sub/out", link: "../../x"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, dir := editorTestFiles(t)
			dest := filepath.Join(dir, "dest")
			err := f.Upload(dest, "x.zip", bytes.NewReader(filesTestZip(t, c.entries...)), true)
			if !errors.Is(err, ErrOutsideRoot) {
				t.Fatalf("got %v, want ErrOutsideRoot", err)
			}
			if got := filesTestTree(t, dir); !reflect.DeepEqual(got, map[string]string{"dest": "/"}) {
				t.Errorf("a refused archive wrote %v", got)
			}
			if got := filesTestTree(t, outside); len(got) != 0 {
				t.Errorf("wrote outside: %v", got)
			}
		})
	}

	// Links that only escape through another link of the archive are found once all are made,
	// and removed.
	f, dir := editorTestFiles(t)
	dest := filepath.Join(dir, "dest")
	err := f.Upload(dest, "x.zip", bytes.NewReader(filesTestZip(t,
		filesZipEntry{name: "here", link: "."},
		filesZipEntry{name: "up", link: "here/.."},
	)), true)
	if !errors.Is(err, ErrOutsideRoot) {
		t.Fatalf("chained link: %v, want ErrOutsideRoot", err)
	}
	if _, err := os.Lstat(filepath.Join(dest, "up")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the escaping link was left in place: %v", err)
	}

	// A link already in the destination is not written through.
	f, dir = editorTestFiles(t)
	dest = filepath.Join(dir, "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dest, "out")); err != nil {
		t.Fatal(err)
	}
	err = f.Upload(dest, "x.zip", bytes.NewReader(filesTestZip(t, filesZipEntry{name: "out/new/evil.txt", body: "evil"})), true)
	if !errors.Is(err, ErrOutsideRoot) {
		t.Fatalf("through an existing link: %v, want ErrOutsideRoot", err)
	}
	if got := filesTestTree(t, outside); len(got) != 0 {
		t.Errorf("wrote outside: %v", got)
	}
}

func TestFilesDownload(t *testing.T) {
	f, dir := editorTestFiles(t)
	root := filepath.Join(dir, "proj")
	for p, body := range map[string]string{"a.txt": "A", "src/main.go": "package main\n", "src/deep/x.bin": "\x00\x01"} {
		filesTestWriteFile(t, filepath.Join(root, p), body)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "alias.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src", filepath.Join(root, "srclink")); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := f.Download(&buf, root); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.txt": "A", "alias.txt": "A", "src/main.go": "package main\n", "src/deep/x.bin": "\x00\x01"}
	if got := filesTestUnzip(t, buf.Bytes()); !reflect.DeepEqual(got, want) {
		t.Errorf("zip of a directory: %q, want %q", got, want)
	}

	// A link to a directory is followed when it is the path asked for.
	buf.Reset()
	if err := f.Download(&buf, filepath.Join(root, "srclink")); err != nil {
		t.Fatal(err)
	}
	if got := filesTestUnzip(t, buf.Bytes()); !reflect.DeepEqual(got, map[string]string{"main.go": "package main\n", "deep/x.bin": "\x00\x01"}) {
		t.Errorf("zip of a link to a directory: %q", got)
	}

	buf.Reset()
	if err := f.Download(&buf, filepath.Join(root, "src/main.go")); err != nil {
		t.Fatal(err)
	}
	if got := filesTestUnzip(t, buf.Bytes()); !reflect.DeepEqual(got, map[string]string{"main.go": "package main\n"}) {
		t.Errorf("zip of a file: %q", got)
	}

	// The zip round-trips through Upload.
	back := filepath.Join(dir, "back")
	buf.Reset()
	if err := f.Download(&buf, root); err != nil {
		t.Fatal(err)
	}
	if err := f.Upload(back, "proj.zip", &buf, true); err != nil {
		t.Fatal(err)
	}
	if got := filesTestTree(t, back); got["src/deep/x.bin"] != "\x00\x01" || got["alias.txt"] != "A" {
		t.Errorf("round trip: %q", got)
	}

	for _, p := range []string{"proj", filepath.Join(dir, "missing")} {
		buf.Reset()
		if err := f.Download(&buf, p); !errors.Is(err, ErrBadPath) || buf.Len() != 0 {
			t.Errorf("Download(%q) = %v with %d bytes written, want ErrBadPath and nothing", p, err, buf.Len())
		}
	}
}

func TestFilesConfinement(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "workspace")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	filesTestWriteFile(t, filepath.Join(outside, "key.txt"), "secret\n")
	filesTestWriteFile(t, filepath.Join(root, "ok.txt"), "fine\n")
	if err := os.Symlink(outside, filepath.Join(root, "esc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "key.txt"), filepath.Join(root, "key-link.txt")); err != nil {
		t.Fatal(err)
	}
	// A symlink to inside is fine, even when the path climbs through "..".
	if err := os.Symlink(".", filepath.Join(root, "self")); err != nil {
		t.Fatal(err)
	}
	f := NewFiles(FilesOptions{WorkDir: root, AllowedRoots: []string{root}, Cwd: func() string { return root }})
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()

	denied := []string{
		filepath.Join(root, "esc", "key.txt"),
		filepath.Join(root, "key-link.txt"),
		filepath.Join(root, "..", "secret", "key.txt"),
		filepath.Join(root, "esc", "new.txt"),
		"esc/key.txt",
		// ".." applies to where the link leads, not lexically: esc/.. is the parent of secret.
		root + "/esc/../secret/key.txt",
		"esc/../secret/key.txt",
	}
	for _, p := range denied {
		obs := f.Read(ctx, &events.FileReadAction{Path: p, End: -1, ImplSource: events.ImplSourceDefault})
		if got := filesTestError(t, obs); !strings.Contains(got, "You're not allowed to access this path: ") || !strings.Contains(got, root) {
			t.Errorf("read %s: %q", p, got)
		}
		obs = f.Write(ctx, &events.FileWriteAction{Path: p, Content: "pwned", End: -1})
		if got := filesTestError(t, obs); !strings.Contains(got, "not allowed") {
			t.Errorf("write %s: %q", p, got)
		}
		if !filepath.IsAbs(p) {
			continue
		}
		obs = f.Read(ctx, &events.FileReadAction{Path: p, End: -1, ImplSource: events.ImplSourceOHACI})
		if got := filesTestError(t, obs); !strings.Contains(got, "not allowed") {
			t.Errorf("view %s: %q", p, got)
		}
		for _, a := range []events.FileEditAction{
			{Path: p, Command: "create", FileText: editorStr("pwned")},
			{Path: p, Command: "str_replace", OldStr: editorStr("secret"), NewStr: editorStr("pwned")},
		} {
			a.ImplSource = events.ImplSourceOHACI
			if got := filesTestError(t, f.Edit(ctx, &a)); !strings.Contains(got, "not allowed") {
				t.Errorf("edit %s %s: %q", a.Command, p, got)
			}
		}
	}
	if got := editorTestContent(t, filepath.Join(outside, "key.txt")); got != "secret\n" {
		t.Errorf("the outside file was changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); err == nil {
		t.Errorf("a file was created outside")
	}

	// Inside, including through a link to inside, or out and back in.
	for _, p := range []string{filepath.Join(root, "ok.txt"), filepath.Join(root, "self", "self", "ok.txt"), "ok.txt", "esc/../workspace/ok.txt"} {
		if ro, ok := f.Read(ctx, &events.FileReadAction{Path: p, End: -1, ImplSource: events.ImplSourceDefault}).(*events.FileReadObservation); !ok || ro.Content != "fine\n" {
			t.Errorf("read %s inside: %#v", p, ro)
		}
	}
	eo := editorTestEdit(t, f, events.FileEditAction{Path: filepath.Join(root, "ok.txt"), Command: "str_replace", OldStr: editorStr("fine"), NewStr: editorStr("good")})
	if strings.HasPrefix(eo.Content, "ERROR") {
		t.Errorf("edit inside: %q", eo.Content)
	}

	for _, p := range []string{"esc", filepath.Join(root, "esc"), base, "..", root + "/esc/..", "esc/.."} {
		if got := f.List(p); got == nil || len(got) != 0 {
			t.Errorf("List(%q) = %q, want empty", p, got)
		}
	}
	if got := f.List(""); !reflect.DeepEqual(got, []string{"esc/", "self/", "key-link.txt", "ok.txt"}) {
		t.Errorf("List of the root: %q", got)
	}

	if err := f.Upload(filepath.Join(root, "esc"), "a.txt", strings.NewReader("x"), false); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("upload through a link: %v", err)
	}
	if err := f.Upload(base, "a.txt", strings.NewReader("x"), false); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("upload outside: %v", err)
	}
	var buf bytes.Buffer
	if err := f.Download(&buf, filepath.Join(root, "esc")); !errors.Is(err, ErrOutsideRoot) || buf.Len() != 0 {
		t.Errorf("download through a link: %v", err)
	}
	if err := f.Download(&buf, root); err != nil {
		t.Fatal(err)
	}
	got := filesTestUnzip(t, buf.Bytes())
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"ok.txt"}) {
		t.Errorf("download of the root holds %q; links leading outside must be skipped", names)
	}
}
