package webui

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// assetDir returns the assets/<hash> directory of the page.
func assetDir(t *testing.T, page fs.FS) string {
	t.Helper()
	dirs, err := fs.Glob(page, "assets/*")
	if err != nil || len(dirs) != 1 || !regexp.MustCompile(`^assets/[0-9a-f]{12}$`).MatchString(dirs[0]) {
		t.Fatalf("want one assets/<hash> directory, got %q (%v)", dirs, err)
	}
	return dirs[0]
}

func TestFSLayout(t *testing.T) {
	page := FS()
	dir := assetDir(t, page)
	embedded, err := fs.Glob(static, "static/*")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index.html"}
	for _, name := range embedded {
		if base := path.Base(name); base != "index.html" {
			want = append(want, dir+"/"+base)
		}
	}
	if len(want) < 8 {
		t.Fatalf("only %d files embedded: %q", len(want), want)
	}
	if err := fstest.TestFS(page, want...); err != nil {
		t.Fatal(err)
	}
	if again := assetDir(t, FS()); again != dir {
		t.Errorf("the asset directory is not stable: %s then %s", dir, again)
	}
}

// TestFilesAreSelfContained: every file is UTF-8; the page refers only to its own files (no CDN,
// nothing third-party), and every module import resolves to an embedded file.
func TestFilesAreSelfContained(t *testing.T) {
	page := FS()
	dir := assetDir(t, page)
	err := fs.WalkDir(page, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(page, name)
		if err != nil {
			return err
		}
		if !utf8.Valid(data) {
			t.Errorf("%s is not valid UTF-8", name)
		}
		if strings.ContainsRune(string(data), '\uFFFD') {
			t.Errorf("%s holds a replacement character", name)
		}
		if strings.HasSuffix(name, ".js") {
			checkImports(t, page, name, string(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	index, err := fs.ReadFile(page, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) < 4 {
		t.Fatalf("index.html refers to %d files", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "/"+dir+"/"):
			if _, err := fs.Stat(page, strings.TrimPrefix(ref, "/")); err != nil {
				t.Errorf("index.html refers to %s: %v", ref, err)
			}
		case ref == "/" || ref == "/settings" || ref == "#main" || strings.HasPrefix(ref, "/api/"):
			// page links
		default:
			t.Errorf("index.html refers to %q, which is not one of its own files", ref)
		}
	}
	for _, want := range []string{`<script type="module" src="/` + dir + `/app.js">`, `Content-Security-Policy`} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

var importRE = regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]`)

func checkImports(t *testing.T, page fs.FS, name, src string) {
	t.Helper()
	for _, m := range importRE.FindAllStringSubmatch(src, -1) {
		spec := m[1] + m[2]
		if !strings.HasPrefix(spec, "./") {
			t.Errorf("%s imports %q: only files of the page may be imported, relatively", name, spec)
			continue
		}
		target := path.Join(path.Dir(name), spec)
		if _, err := fs.Stat(page, target); err != nil {
			t.Errorf("%s imports %s, which is not embedded", name, spec)
		}
	}
	if regexp.MustCompile(`https?://[a-z]`).MatchString(src) {
		t.Errorf("%s names a web address; the page must not load anything from elsewhere", name)
	}
}
