package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const testIndex = `<!doctype html><html><head><script type="module" src="/assets/index-B1x2.js"></script></head><body><div id="root"></div></body></html>`

// testFrontend is a small stand-in for OpenHands' frontend/build.
var testFrontend = map[string]string{
	"index.html":                   testIndex,
	"favicon.ico":                  "\x00\x00\x01\x00icon",
	"mockServiceWorker.js":         "self.addEventListener('fetch', () => {})",
	"assets/index-B1x2.js":         "import './chunk-Q9.js';",
	"assets/index-B1x2.js.map":     `{"version":3}`,
	"assets/index-C3d4.css":        "body{margin:0}",
	"assets/logo-E5f6.svg":         `<svg xmlns="http://www.w3.org/2000/svg"></svg>`,
	"assets/inter-G7h8.woff2":      "wOF2font",
	"assets/shiki-H9i0.wasm":       "\x00asm\x01\x00\x00\x00",
	"assets/screenshot-J1k2.png":   "\x89PNG\r\n\x1a\nimage",
	"assets/manifest.json":         `{"name":"OpenHands"}`,
	"locales/en/translation.json":  `{"HOME$TITLE":"Let's Start Building!"}`,
	"locales/de/translation.json":  `{"HOME$TITLE":"Lass uns anfangen!"}`,
	"docs/index.html":              "<p>docs</p>",
	".env":                         "SECRET=dotfile",
	"assets/.hidden/thing.js":      "hidden",
	"settings-prerendered/x.txt":   "plain",
	"assets/nested/deep/file.json": `{"deep":true}`,
}

// writeTree writes files (slash-separated names) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newFrontendFixture serves a frontend directory holding testFrontend; it returns the directory.
func newFrontendFixture(t *testing.T, opts Options) (*fixture, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "build")
	writeTree(t, dir, testFrontend)
	if err := CheckFrontendDir(dir); err != nil {
		t.Fatal(err)
	}
	opts.FrontendDir = dir
	return newFixture(t, opts), dir
}

func TestStaticFilesAndTypes(t *testing.T) {
	f, _ := newFrontendFixture(t, Options{})
	cases := []struct {
		path, ctype, body string
	}{
		{"/assets/index-B1x2.js", "text/javascript; charset=utf-8", testFrontend["assets/index-B1x2.js"]},
		{"/assets/index-B1x2.js.map", "application/json", testFrontend["assets/index-B1x2.js.map"]},
		{"/assets/index-C3d4.css", "text/css; charset=utf-8", testFrontend["assets/index-C3d4.css"]},
		{"/assets/logo-E5f6.svg", "image/svg+xml", testFrontend["assets/logo-E5f6.svg"]},
		{"/assets/inter-G7h8.woff2", "font/woff2", testFrontend["assets/inter-G7h8.woff2"]},
		{"/assets/shiki-H9i0.wasm", "application/wasm", testFrontend["assets/shiki-H9i0.wasm"]},
		{"/assets/screenshot-J1k2.png", "image/png", testFrontend["assets/screenshot-J1k2.png"]},
		{"/assets/manifest.json", "application/json", testFrontend["assets/manifest.json"]},
		{"/assets/nested/deep/file.json", "application/json", testFrontend["assets/nested/deep/file.json"]},
		{"/favicon.ico", "image/x-icon", testFrontend["favicon.ico"]},
		{"/mockServiceWorker.js", "text/javascript; charset=utf-8", testFrontend["mockServiceWorker.js"]},
		{"/locales/en/translation.json", "application/json", testFrontend["locales/en/translation.json"]},
		{"/locales/de/translation.json", "application/json", testFrontend["locales/de/translation.json"]},
		{"/settings-prerendered/x.txt", "text/plain; charset=utf-8", "plain"},
		{"/", "text/html; charset=utf-8", testIndex},
		{"/index.html", "text/html; charset=utf-8", testIndex},
		{"/docs/", "text/html; charset=utf-8", "<p>docs</p>"},
		{"/docs", "text/html; charset=utf-8", "<p>docs</p>"},
	}
	for _, c := range cases {
		resp, body := f.do("GET", c.path, "")
		if resp.StatusCode != 200 || body != c.body {
			t.Errorf("GET %s: %d %q, want 200 %q", c.path, resp.StatusCode, body, c.body)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", c.path, got)
		}
	}

	// HEAD answers the headers of GET without a body.
	resp, body := f.do("HEAD", "/assets/index-B1x2.js", "")
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		resp.ContentLength != int64(len(testFrontend["assets/index-B1x2.js"])) {
		t.Errorf("HEAD asset: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestStaticSPAFallback(t *testing.T) {
	f, _ := newFrontendFixture(t, Options{})
	for _, p := range []string{
		"/conversations/3f6c1e0a9b2d4c5e8f7a6b5c4d3e2f1a",
		"/settings",
		"/settings/",
		"/settings/mcp",
		"/settings/integrations",
		"/microagent-management",
		"/api-keys",      // not under /api/
		"/assetsfoo/x",   // not under /assets/
		"/.env",          // dotfiles are never served
		"/favicon.ico/x", // a file named as a directory
		"/index.html/x",
	} {
		resp, body := f.do("GET", p, "")
		if resp.StatusCode != 200 || body != testIndex || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: %d %q %v, want index.html", p, resp.StatusCode, body, resp.Header)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("GET %s: Cache-Control %q", p, cc)
		}
	}
	resp, body := f.do("HEAD", "/conversations/abc", "")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len(testIndex)) {
		t.Errorf("HEAD deep link: %d %q %d", resp.StatusCode, body, resp.ContentLength)
	}
}

func TestStaticMisses(t *testing.T) {
	f, _ := newFrontendFixture(t, Options{})
	for _, p := range []string{
		"/locales/en-US/translation.json",
		"/locales/xx/translation.json",
		"/locales",
		"/locales/",
		"/assets/index-OLD.js",
		"/assets/",
		"/assets",
		"/assets/nested",
		"/assets/.hidden/thing.js",
	} {
		resp, body := f.do("GET", p, "")
		if resp.StatusCode != 404 || strings.TrimSpace(body) != `{"detail":"Not Found"}` {
			t.Errorf("GET %s: %d %q, want JSON 404", p, resp.StatusCode, body)
		}
		// A miss must not be cached for a month, even under /assets.
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("GET %s: Cache-Control %q", p, cc)
		}
	}
	f.expect("GET", "/api/nope", "", 404, `{"detail":"Not Found"}`)
	f.expect("GET", "/api/conversations-typo/x", "", 404, `{"detail":"Not Found"}`)

	for _, c := range []struct{ method, path string }{
		{"POST", "/conversations/abc"},
		{"POST", "/"},
		{"PUT", "/assets/index-B1x2.js"},
		{"DELETE", "/settings"},
		{"PATCH", "/locales/en/translation.json"},
		{"POST", "/alive"},
	} {
		resp, body := f.do(c.method, c.path, "{}")
		if resp.StatusCode != 405 || strings.TrimSpace(body) != `{"detail":"Method Not Allowed"}` ||
			resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: %d %q Allow=%q, want 405", c.method, c.path, resp.StatusCode, body, resp.Header.Get("Allow"))
		}
	}
}

func TestStaticConfinement(t *testing.T) {
	f, dir := newFrontendFixture(t, Options{})
	const secret = "TOP-SECRET-OUTSIDE-THE-FRONTEND"
	outside := filepath.Dir(dir)
	writeTree(t, outside, map[string]string{"secret.txt": secret, "private/key.txt": secret})
	links := map[string]string{
		"leak.txt":         filepath.Join("..", "secret.txt"),
		"assets/leak.js":   filepath.Join(outside, "secret.txt"),
		"locales/up":       outside,
		"private":          filepath.Join("..", "private"),
		"inside-link.json": filepath.Join("locales", "en", "translation.json"), // stays inside: allowed
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks not available: %v", err)
		}
	}

	// A client that sends paths as written and does not follow the mux's clean-path redirects.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(rawPath string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", f.ts.URL+rawPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = rawPath // keep the path byte for byte
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	// Symlinks that leave the directory are refused outright.
	for _, p := range []string{"/leak.txt", "/assets/leak.js", "/locales/up/secret.txt", "/private/key.txt"} {
		status, body := get(p)
		if status != 404 || strings.Contains(body, secret) {
			t.Errorf("GET %s: %d %q, want 404", p, status, body)
		}
	}
	// Traversal is cleaned away (by the mux's redirect or by the handler): whatever the answer, it
	// is never the outside file.
	for _, p := range []string{
		"/../secret.txt",
		"/assets/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/assets/%2e%2e/%2e%2e/secret.txt",
		"/assets%2f..%2f..%2fsecret.txt",
		"/locales/..%2f..%2fsecret.txt",
		"/%2e%2e%2fsecret.txt",
		"/..%5csecret.txt",
		"/assets/..%5c..%5csecret.txt",
	} {
		status, body := get(p)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s leaked the outside file (%d)", p, status)
		}
		switch status {
		case 200:
			if body != testIndex {
				t.Errorf("GET %s: 200 %q", p, body)
			}
		case 301, 307, 308, 400, 404:
		default:
			t.Errorf("GET %s: unexpected %d %q", p, status, body)
		}
	}
	// The handler confines paths on its own, should a request reach it uncleaned.
	h := f.srv.staticFiles()
	for _, p := range []string{"/../secret.txt", "/assets/../../secret.txt", "/../build/../secret.txt", "/..\\secret.txt"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("handler given %s leaked the outside file (%d)", p, w.Code)
		}
	}
	// A symlink that stays inside is followed.
	if status, body := get("/inside-link.json"); status != 200 || body != testFrontend["locales/en/translation.json"] {
		t.Errorf("inside symlink: %d %q", status, body)
	}
	// No directory listings.
	for _, p := range []string{"/assets/", "/locales/en/"} {
		if status, body := get(p); status != 404 || strings.Contains(body, "translation.json") || strings.Contains(body, "index-B1x2") {
			t.Errorf("GET %s: %d %q, want 404 without a listing", p, status, body)
		}
	}
}

func TestStaticCacheHeaders(t *testing.T) {
	f, dir := newFrontendFixture(t, Options{})
	resp, _ := f.do("GET", "/assets/index-B1x2.js", "")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=2592000, immutable" {
		t.Errorf("asset Cache-Control %q", cc)
	}
	if resp.Header.Get("Pragma") != "" || resp.Header.Get("Expires") != "" {
		t.Errorf("asset has no-cache headers: %v", resp.Header)
	}
	for _, p := range []string{"/", "/index.html", "/settings", "/locales/en/translation.json"} {
		resp, _ := f.do("GET", p, "")
		h := resp.Header
		if h.Get("Cache-Control") != "no-cache, no-store, must-revalidate, max-age=0" || h.Get("Pragma") != "no-cache" || h.Get("Expires") != "0" {
			t.Errorf("GET %s: cache headers %v", p, h)
		}
	}

	// Conditional requests.
	mod := time.Date(2025, 7, 30, 10, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "assets", "index-C3d4.css"), mod, mod); err != nil {
		t.Fatal(err)
	}
	resp, _ = f.do("GET", "/assets/index-C3d4.css", "")
	etag := resp.Header.Get("ETag")
	if resp.Header.Get("Last-Modified") != mod.Format(http.TimeFormat) || etag == "" {
		t.Fatalf("validators: %v", resp.Header)
	}
	if resp, body := f.do("GET", "/assets/index-C3d4.css", "", "If-None-Match", etag); resp.StatusCode != 304 || body != "" {
		t.Errorf("If-None-Match: %d %q", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/assets/index-C3d4.css", "", "If-Modified-Since", mod.Add(time.Hour).Format(http.TimeFormat)); resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since later: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/assets/index-C3d4.css", "", "If-Modified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)); resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since earlier: %d", resp.StatusCode)
	}
	if resp, body := f.do("GET", "/assets/index-C3d4.css", "", "Range", "bytes=0-3"); resp.StatusCode != 206 || body != "body" {
		t.Errorf("Range: %d %q", resp.StatusCode, body)
	}
}

// A rebuild of the frontend (the directory replaced while the server runs) is served at once.
func TestStaticRebuild(t *testing.T) {
	f, dir := newFrontendFixture(t, Options{})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"index.html": "rebuilt", "assets/index-NEW.js": "new"})
	f.expect("GET", "/", "", 200, "rebuilt")
	f.expect("GET", "/settings", "", 200, "rebuilt")
	f.expect("GET", "/assets/index-NEW.js", "", 200, "new")
	f.expect("GET", "/assets/index-B1x2.js", "", 404, "")
}

// The static files are served without the session key, as OpenHands does: a browser loading the
// page cannot send it. The API still requires it.
func TestStaticWithoutSessionKey(t *testing.T) {
	f, _ := newFrontendFixture(t, Options{SessionAPIKey: "sess-key"})
	f.expect("GET", "/", "", 200, testIndex)
	f.expect("GET", "/conversations/abc", "", 200, testIndex)
	f.expect("GET", "/assets/index-B1x2.js", "", 200, testFrontend["assets/index-B1x2.js"])
	f.expect("GET", "/api/options/config", "", 401, `{"detail":"Unauthorized"}`)
	f.expect("GET", "/api/nope", "", 401, `{"detail":"Unauthorized"}`)
}

func TestCheckFrontendDir(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"good/index.html":                "x",
		"empty/.keep":                    "",
		"source/package.json":            "{}",
		"source/build/index.html":        "x",
		"unmoved/client/index.html":      "x",
		"dirindex/index.html/nested.txt": "x",
		"file.txt":                       "x",
	})
	writeTree(t, root, map[string]string{"escaping/README": ""})
	if err := os.Symlink(filepath.Join(root, "good", "index.html"), filepath.Join(root, "escaping", "index.html")); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}

	if err := CheckFrontendDir(filepath.Join(root, "good")); err != nil {
		t.Errorf("good dir: %v", err)
	}
	if err := CheckFrontendDir(""); err != nil {
		t.Errorf("empty path: %v", err)
	}
	cases := []struct{ dir, want string }{
		{filepath.Join(root, "missing"), "no such file"},
		{filepath.Join(root, "file.txt"), "not a directory"},
		{filepath.Join(root, "empty"), "no index.html: is this a built OpenHands frontend (frontend/build)?"},
		{filepath.Join(root, "dirindex"), "no index.html"},
		{filepath.Join(root, "source"), "did you mean " + filepath.Join(root, "source", "build") + "?"},
		{filepath.Join(root, "unmoved"), "did you mean " + filepath.Join(root, "unmoved", "client") + "?"},
		{filepath.Join(root, "escaping"), "index.html: "},
	}
	for _, c := range cases {
		err := CheckFrontendDir(c.dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFrontendDir(%s) = %v, want an error containing %q", c.dir, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), "frontend dir") {
			t.Errorf("CheckFrontendDir(%s) = %v: does not say what was checked", c.dir, err)
		}
	}
}

func TestStaticBuiltinPage(t *testing.T) {
	f := newFixture(t, Options{})
	resp, body := f.do("GET", "/", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{"gohands API is running", `href="/api/options/config"`, `href="/health"`, "--frontend-dir"} {
		if !strings.Contains(body, want) {
			t.Errorf("built-in page lacks %q:\n%s", want, body)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("built-in page Cache-Control %q", cc)
	}
	if resp, body := f.do("HEAD", "/", ""); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /: %d %q", resp.StatusCode, body)
	}
	// Without a frontend there is no SPA to fall back to.
	f.expect("GET", "/settings", "", 404, `{"detail":"Not Found"}`)
	f.expect("GET", "/assets/index.js", "", 404, `{"detail":"Not Found"}`)
	f.expect("POST", "/", "{}", 405, `{"detail":"Method Not Allowed"}`)
	f.expect("GET", "/api/options/agents", "", 200, "")
}

func TestStaticUIFS(t *testing.T) {
	ui := fstest.MapFS{
		"index.html":                  {Data: []byte("<p>built-in ui</p>")},
		"assets/app-Z9.js":            {Data: []byte("console.log(1)")},
		"assets/app-Z9.css":           {Data: []byte("p{}")},
		"locales/en/translation.json": {Data: []byte(`{"A":"a"}`)},
	}
	f := newFixture(t, Options{UI: ui})
	f.expect("GET", "/", "", 200, "<p>built-in ui</p>")
	f.expect("GET", "/conversations/abc", "", 200, "<p>built-in ui</p>")
	f.expect("GET", "/locales/en/translation.json", "", 200, `{"A":"a"}`)
	f.expect("GET", "/locales/en-US/translation.json", "", 404, `{"detail":"Not Found"}`)
	f.expect("GET", "/assets/missing.js", "", 404, `{"detail":"Not Found"}`)
	resp, body := f.do("GET", "/assets/app-Z9.js", "")
	if resp.StatusCode != 200 || body != "console.log(1)" || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != "public, max-age=2592000, immutable" {
		t.Errorf("UI asset: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// FrontendDir wins over UI.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"index.html": "from dir"})
	g := newFixture(t, Options{UI: ui, FrontendDir: dir})
	g.expect("GET", "/", "", 200, "from dir")
	g.expect("GET", "/assets/app-Z9.js", "", 404, "")
}

func TestStaticName(t *testing.T) {
	cases := []struct {
		in, name string
		ok       bool
	}{
		{"/", ".", true},
		{"", ".", true},
		{"/assets/a.js", "assets/a.js", true},
		{"/a//b/", "a/b", true},
		{"/../x", "x", true},
		{"/a/../../x", "x", true},
		{"/.env", "", false},
		{"/a/.git/config", "", false},
		{"/a\\..\\b", "", false},
		{"/c:/x", "", false},
		{"/a\x00b", "", false},
	}
	for _, c := range cases {
		name, ok := staticName(c.in)
		if name != c.name || ok != c.ok {
			t.Errorf("staticName(%q) = %q, %v; want %q, %v", c.in, name, ok, c.name, c.ok)
		}
	}
}

func BenchmarkStaticAsset(b *testing.B) {
	dir := b.TempDir()
	for name, body := range testFrontend {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	srv := New(nil, nil, Options{FrontendDir: dir})
	h := srv.Handler()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/assets/index-B1x2.js", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
