package actionserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// KeyHeader carries the per-conversation API key, as in OpenHands.
const KeyHeader = "X-Session-API-Key"

// maxActionBytes bounds an /execute_action body (file texts can be large; a runaway is refused).
const maxActionBytes = 64 << 20

// Options configure a Server.
type Options struct {
	// APIKey is required on every request but /alive and /server_info; "" disables the check.
	APIKey string
	Shell  Shell
	Files  FileOps
	Logger *slog.Logger
}

// Server answers OpenHands' action execution protocol. Actions run one at a time, as in OpenHands.
type Server struct {
	opts       Options
	log        *slog.Logger
	started    time.Time
	lastAction atomic.Int64 // unix nanoseconds of the last /execute_action

	// exec serialises actions: one shell, one editor history.
	exec sync.Mutex
}

// New returns a server executing with opts.Shell and opts.Files.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger, started: time.Now()}
	s.lastAction.Store(s.started.UnixNano())
	return s
}

// Handler routes the protocol's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /alive", s.alive)
	mux.HandleFunc("GET /server_info", s.serverInfo)
	mux.Handle("POST /execute_action", s.auth(s.executeAction))
	mux.Handle("POST /list_files", s.auth(s.listFiles))
	mux.Handle("POST /upload_file", s.auth(s.uploadFile))
	mux.Handle("GET /download_files", s.auth(s.downloadFiles))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/alive", "/server_info", "/execute_action", "/list_files", "/upload_file", "/download_files":
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not answer %s", r.URL.Path, r.Method))
		default:
			writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
		}
	})
	return s.recoverPanics(mux)
}

// Serve answers on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
		<-done
		return nil
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with OpenHands' error envelope {"detail": "..."}.
func writeError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]string{"detail": detail})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("action server panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal error in the action server")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.APIKey != "" &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get(KeyHeader)), []byte(s.opts.APIKey)) != 1 {
			writeError(w, http.StatusForbidden, "Invalid API Key")
			return
		}
		next(w, r)
	})
}

func (s *Server) alive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) serverInfo(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	writeJSON(w, http.StatusOK, map[string]any{
		"uptime":    now.Sub(s.started).Seconds(),
		"idle_time": now.Sub(time.Unix(0, s.lastAction.Load())).Seconds(),
		"resources": map[string]any{"memory": map[string]any{"rss": rssBytes()}},
	})
}

// rssBytes reads the server's resident memory from /proc (0 where there is none).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	fmt.Sscan(string(data), &size, &rss)
	return rss * int64(os.Getpagesize())
}

func (s *Server) executeAction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Action json.RawMessage `json:"action"`
	}
	body := http.MaxBytesReader(w, r.Body, maxActionBytes)
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, "the body must be a JSON object {\"action\": {...}}: "+err.Error())
		return
	}
	if len(req.Action) == 0 {
		writeError(w, http.StatusBadRequest, `the body has no "action"`)
		return
	}
	ev, err := events.Decode(req.Action)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if ev.Action == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is an observation, not an action", ev.Type()))
		return
	}
	s.exec.Lock()
	defer s.exec.Unlock()
	s.lastAction.Store(time.Now().UnixNano())
	obs, status, detail := s.dispatch(r.Context(), ev)
	if obs == nil {
		writeError(w, status, detail)
		return
	}
	out, err := events.Marshal(&events.Event{ID: -1, Observation: obs})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode the observation: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// dispatch runs one action; it returns an observation, or an HTTP status and detail for actions
// that cannot run here at all.
func (s *Server) dispatch(ctx context.Context, ev *events.Event) (events.Observation, int, string) {
	var timeout time.Duration
	if ev.Timeout != nil && *ev.Timeout > 0 {
		timeout = time.Duration(*ev.Timeout * float64(time.Second))
	}
	switch a := ev.Action.(type) {
	case *events.CmdRunAction:
		return s.opts.Shell.Run(ctx, a, timeout), 0, ""
	case *events.FileReadAction:
		return s.opts.Files.Read(ctx, a), 0, ""
	case *events.FileWriteAction:
		return s.opts.Files.Write(ctx, a), 0, ""
	case *events.FileEditAction:
		return s.opts.Files.Edit(ctx, a), 0, ""
	case *events.IPythonRunCellAction:
		return errorObservation("IPython is not available in this sandbox: it has no Jupyter kernel. " +
			"Run Python through the shell instead (python3 -c '...' or a script file)."), 0, ""
	case *events.BrowseURLAction, *events.BrowseInteractiveAction:
		return errorObservation("Browser functionality is not supported or disabled."), 0, ""
	}
	return nil, http.StatusBadRequest, fmt.Sprintf("action %q cannot be executed in the sandbox", ev.Type())
}

func errorObservation(text string) events.Observation {
	o := &events.ErrorObservation{}
	o.Content = text
	return o
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Path string `json:"path"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil && err != io.EOF {
			writeError(w, http.StatusBadRequest, "the body must be a JSON object {\"path\": \"...\"}: "+err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, s.opts.Files.List(req.Path))
}

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	dest := r.URL.Query().Get("destination")
	if dest == "" {
		dest = "/"
	}
	recursive, _ := strconv.ParseBool(r.URL.Query().Get("recursive"))
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body must be multipart/form-data with a \"file\" field: "+err.Error())
		return
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			writeError(w, http.StatusBadRequest, `no "file" field in the upload`)
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "read the upload: "+err.Error())
			return
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name := part.FileName()
		err = s.opts.Files.Upload(dest, name, part, recursive)
		part.Close()
		if err != nil {
			writeError(w, fileErrorStatus(err), err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"filename": name, "destination": dest, "recursive": recursive})
		return
	}
}

func fileErrorStatus(err error) int {
	switch {
	case errors.Is(err, ErrOutsideRoot):
		return http.StatusForbidden
	case errors.Is(err, ErrBadPath):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// trackingWriter remembers whether the body was started, so an error found before can still
// change the status.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	if !t.started {
		t.started = true
		t.Header().Set("Content-Type", "application/zip")
	}
	return t.ResponseWriter.Write(p)
}

func (s *Server) downloadFiles(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	tw := &trackingWriter{ResponseWriter: w}
	if err := s.opts.Files.Download(tw, path); err != nil {
		if !tw.started {
			writeError(w, fileErrorStatus(err), err.Error())
			return
		}
		s.log.Warn("download failed after the response started", "path", path, "err", err)
		panic(http.ErrAbortHandler) // the client sees a truncated response, not a valid zip
	}
}
