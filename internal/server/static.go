package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Static files (server.md §6.5). OpenHands mounts its built frontend at / and answers index.html
// for every miss, so client-side routes survive a reload. We do the same except under /assets and
// /locales, where a miss is a 404: a missing hashed bundle or translation that came back as HTML
// would break the page in a way that is hard to see (the UI falls back to English on a failed
// locale load, but not on an HTML one). Unknown /api paths keep their JSON 404 (see routes).

// staticPattern is the mux pattern of the static files: it catches every path no other route takes.
const staticPattern = "/"

// staticRoutes registers the frontend at /.
func (s *Server) staticRoutes() {
	s.mux.Handle(staticPattern, s.staticFiles())
}

// staticFiles returns the handler of the files at /: FrontendDir when set, else Options.UI, else
// only the built-in page at / itself.
func (s *Server) staticFiles() *staticFiles {
	h := &staticFiles{log: s.log}
	switch {
	case s.opts.FrontendDir != "":
		h.fsys = rootDir(s.opts.FrontendDir)
	case s.opts.UI != nil:
		h.fsys = s.opts.UI
	}
	return h
}

// isStaticRoute reports whether r goes to the static files. OpenHands serves them without the
// session key (server.md §1.1): a browser loading the page cannot send a header.
func (s *Server) isStaticRoute(r *http.Request) bool {
	_, pattern := s.mux.Handler(r)
	return pattern == staticPattern
}

// CheckFrontendDir reports whether dir can be served as FrontendDir: it must be a directory with an
// index.html. New cannot fail, so the command calls this first. An empty dir is valid (the
// built-in page is served).
func CheckFrontendDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("frontend dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("frontend dir %s: not a directory", dir)
	}
	f, err := os.OpenInRoot(dir, "index.html")
	if err == nil {
		fi, err = f.Stat()
		f.Close()
		if err == nil && fi.Mode().IsRegular() {
			return nil
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("frontend dir %s: index.html: %w", dir, err)
	}
	// A common slip is to name the frontend source directory, or the build's client directory
	// when the build did not move it up.
	for _, sub := range []string{"build", "client"} {
		if fi, err := os.Stat(filepath.Join(dir, sub, "index.html")); err == nil && fi.Mode().IsRegular() {
			return fmt.Errorf("frontend dir %s: no index.html: did you mean %s?", dir, filepath.Join(dir, sub))
		}
	}
	return fmt.Errorf("frontend dir %s: no index.html: is this a built OpenHands frontend (frontend/build)?", dir)
}

// rootDir is a directory read through os.OpenInRoot: no name, symlink or ".." can reach outside
// it. It opens the directory anew on every request, so a rebuild that replaces it is picked up.
type rootDir string

func (d rootDir) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := os.OpenInRoot(string(d), filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	return f, nil
}

// staticFiles serves fsys at /; with a nil fsys it serves only the built-in page.
type staticFiles struct {
	log  *slog.Logger
	fsys fs.FS
}

func (h *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, detailBody{Detail: "Method Not Allowed"})
		return
	}
	if h.fsys == nil {
		if r.URL.Path == "/" {
			serveBuiltinPage(w, r)
			return
		}
		notFound(w)
		return
	}
	name, ok := staticName(r.URL.Path)
	if ok {
		switch err := h.serve(w, r, name); {
		case err == nil:
			return
		case !isMiss(err):
			// A symlink out of the directory, an unreadable file: a plain 404 rather than the
			// page, so that the refusal shows.
			h.log.Debug("static file refused", "path", r.URL.Path, "error", err)
			notFound(w)
			return
		}
	}
	if noFallback(r.URL.Path) {
		notFound(w)
		return
	}
	if err := h.serve(w, r, "index.html"); err != nil {
		h.log.Warn("frontend has no index.html", "error", err)
		notFound(w)
	}
}

// serve writes the file name (or the index.html of directory name) and returns nil, or returns an
// error without writing anything.
func (h *staticFiles) serve(w http.ResponseWriter, r *http.Request, name string) error {
	f, fi, err := openRegular(h.fsys, name)
	if errors.Is(err, errIsDir) {
		name = path.Join(name, "index.html")
		f, fi, err = openRegular(h.fsys, name)
		if errors.Is(err, errIsDir) {
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		content = bytes.NewReader(data)
	}
	hdr := w.Header()
	if ctype := contentType(name); ctype != "" {
		hdr.Set("Content-Type", ctype)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	if path.Base(name) == "index.html" {
		// The page names the hashed bundles, so it must never be cached, whatever its path.
		setNoStore(hdr)
	}
	if mod := fi.ModTime(); !mod.IsZero() {
		hdr.Set("ETag", fmt.Sprintf(`"%x-%x"`, mod.UnixNano(), fi.Size()))
	}
	http.ServeContent(w, r, name, fi.ModTime(), content)
	return nil
}

var errIsDir = errors.New("is a directory")

// openRegular opens name in fsys if it is a regular file; a directory gives errIsDir.
func openRegular(fsys fs.FS, name string) (fs.File, fs.FileInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = errIsDir
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%s: not a regular file", name)
	default:
		return f, fi, nil
	}
	f.Close()
	return nil, nil, err
}

// isMiss reports whether err means the file is simply not there, which takes the SPA fallback.
func isMiss(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// staticName turns a URL path into a name for fs.FS ("." for the root). Names with a segment
// starting with a dot (.env, .git) are never served, nor names a Windows file system would read
// differently; ok is false for them and the request takes the fallback.
func staticName(urlPath string) (name string, ok bool) {
	name = strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		return ".", true
	}
	if strings.ContainsAny(name, "\\:\x00") {
		return "", false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return name, fs.ValidPath(name)
}

// noFallback reports whether a miss at p answers 404 rather than index.html.
func noFallback(p string) bool {
	for _, dir := range []string{"/assets", "/locales"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// notFound answers FastAPI's 404. It is never cached: under /assets the middleware has already
// promised a month, and a file missing during a deploy must not stay missing for the browser.
func notFound(w http.ResponseWriter) {
	setNoStore(w.Header())
	writeJSON(w, http.StatusNotFound, detailBody{Detail: "Not Found"})
}

func setNoStore(h http.Header) {
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}

// staticTypes are the types of what a Vite build of the OpenHands frontend emits. They are fixed
// here because the host's MIME table (/etc/mime.types, the Windows registry) varies, and a module
// script served with the wrong type is refused by the browser.
var staticTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".eot":         "application/vnd.ms-fontobject",
	".wasm":        "application/wasm",
	".mp3":         "audio/mpeg",
	".wav":         "audio/wav",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".pdf":         "application/pdf",
}

// contentType is the type of name by extension; "" lets http.ServeContent sniff.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := staticTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

// builtinPage is served at / when there is no frontend to serve.
const builtinPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>gohands</title></head>
<body>
<h1>gohands</h1>
<p>The gohands API is running.</p>
<ul>
<li><a href="/api/options/config">/api/options/config</a></li>
<li><a href="/health">/health</a></li>
</ul>
<p>This build has no web interface of its own. To use the OpenHands web interface, build it
(<code>npm run build</code> in OpenHands' <code>frontend</code> directory) and start gohands with
<code>--frontend-dir</code> pointing at the resulting <code>frontend/build</code> directory.</p>
</body>
</html>
`

func serveBuiltinPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	setNoStore(h)
	http.ServeContent(w, r, "index.html", time.Time{}, strings.NewReader(builtinPage))
}
