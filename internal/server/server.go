// Package server is the REST half of the OpenHands 0.50 backend: health, options, settings, secrets
// and the OSS /api/user answers, behind the middleware of server.md §6 (panic recovery, request
// logs, rate limiting, CORS, cache control and the optional session API key).
package server

import (
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/storage"
)

// Options configures New. The zero value is usable.
type Options struct {
	// Logger receives request logs and panics; nil discards them.
	Logger *slog.Logger
	// Version is reported in logs only; OpenHands' REST API has no version route.
	Version string
	// Now is the clock; nil means time.Now. Tests fix it to make rate limiting deterministic.
	Now func() time.Time
	// SessionAPIKey, when non-empty, is required in header X-Session-API-Key on every route except
	// /alive, /health and /server_info (OpenHands' SESSION_API_KEY).
	SessionAPIKey string
	// CORSOrigins is OpenHands' PERMITTED_CORS_ORIGINS: when non-empty exactly these origins are
	// allowed ("*" allows all) and localhost is not implicitly allowed.
	CORSOrigins []string
	// GitHubClientID, EnableBilling and HideLLMSettings feed /api/options/config
	// (env GITHUB_APP_CLIENT_ID, ENABLE_BILLING, HIDE_LLM_SETTINGS in OpenHands).
	GitHubClientID  string
	EnableBilling   bool
	HideLLMSettings bool
	// Conversations is the conversation manager behind /api/conversations; nil answers those
	// routes with 503.
	Conversations conversation.Manager
	// AllowSetConversationID lets POST /api/conversations take a conversation_id (OpenHands' env ALLOW_SET_CONVERSATION_ID=1).
	AllowSetConversationID bool
	// FrontendDir, when set, is a built OpenHands frontend served at / with a single-page-app
	// fallback; otherwise the built-in page is served. Check it with CheckFrontendDir first.
	FrontendDir string
	// UI is the built-in web page; used when FrontendDir is empty.
	UI fs.FS
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Socket, when set, serves /socket.io/.
	Socket http.Handler
}

// Server serves the REST API. Make one with New.
type Server struct {
	cfg     *config.Config
	store   *storage.Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	started time.Time
	mux     *http.ServeMux
	handler http.Handler
	limiter *rateLimiter

	// lastActive is the UnixNano time of the last request that was not a health probe, for
	// /server_info's idle_time.
	lastActive atomic.Int64

	// secretsMu serialises read-modify-write cycles of the secrets store and of settings, so that two
	// concurrent requests cannot lose each other's update.
	secretsMu sync.Mutex
}

// New builds a Server over cfg and store. cfg may be nil (defaults are then used where it is read).
func New(cfg *config.Config, store *storage.Store, opts Options) *Server {
	if cfg == nil {
		cfg = &config.Config{}
	}
	s := &Server{cfg: cfg, store: store, opts: opts, log: opts.Logger, now: opts.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	s.lastActive.Store(s.started.UnixNano())
	s.limiter = newRateLimiter(rateLimitPerSecond, rateLimitBurst, s.now)
	s.routes()
	s.handler = s.middleware(s.mux)
	if sock := opts.Socket; sock != nil {
		// Socket.IO traffic bypasses the HTTP middleware, as in OpenHands (server.md §0): it has its
		// own CORS and keys, and a websocket upgrade needs the raw connection.
		api := s.handler
		s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/socket.io/") {
				sock.ServeHTTP(w, r)
				return
			}
			api.ServeHTTP(w, r)
		})
	}
	return s
}

// Handler returns the HTTP handler with all middleware applied.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /alive", s.handleAlive)
	m.HandleFunc("GET /health", s.handleHealth)
	m.HandleFunc("GET /server_info", s.handleServerInfo)

	m.HandleFunc("GET /api/options/models", s.handleModels)
	m.HandleFunc("GET /api/options/agents", s.handleAgents)
	m.HandleFunc("GET /api/options/security-analyzers", s.handleSecurityAnalyzers)
	m.HandleFunc("GET /api/options/config", s.handleConfig)

	m.HandleFunc("GET /api/settings", s.handleGetSettings)
	m.HandleFunc("POST /api/settings", s.handlePostSettings)
	m.HandleFunc("POST /api/reset-settings", s.handleResetSettings)

	m.HandleFunc("POST /api/add-git-providers", s.handleAddGitProviders)
	m.HandleFunc("POST /api/unset-provider-tokens", s.handleUnsetProviderTokens)
	m.HandleFunc("GET /api/secrets", s.handleListSecrets)
	m.HandleFunc("POST /api/secrets", s.handleCreateSecret)
	m.HandleFunc("PUT /api/secrets/{id}", s.handleUpdateSecret)
	m.HandleFunc("DELETE /api/secrets/{id}", s.handleDeleteSecret)

	s.userRoutes()
	s.conversationRoutes()
	s.staticRoutes()
	if s.opts.Metrics != nil {
		m.Handle("GET /metrics", s.opts.Metrics)
	}

	// Unknown /api paths answer a JSON 404 rather than OpenHands' SPA fallback (§8 item 15): a
	// JSON 404 is what an API client can act on, and the UI never relies on the HTML answer.
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, detailBody{Detail: "Not Found"})
	})
}

// Error bodies; OpenHands mixes these shapes (server.md §1.2) and the UI reads each.
type (
	errorBody struct {
		Error string `json:"error"`
	}
	messageBody struct {
		Message string `json:"message"`
	}
	detailBody struct {
		Detail string `json:"detail"`
	}
)

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
