package server

import (
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Rate limiting (server.md §6.3). OpenHands counts requests per client IP in a trailing 1 s window:
// up to 10 pass, 11-20 are delayed by 1 s, more are refused with 429. We use a token bucket per IP
// holding 20 tokens and refilled at 20 per second, and refuse (429, Retry-After: 1) when it is
// empty. We do not delay requests 11-20: a sleeping handler only ties up a connection.
const (
	rateLimitPerSecond = 20
	rateLimitBurst     = 20
	// limiterSweepSize is how many client entries may accumulate before full buckets are dropped.
	limiterSweepSize = 1024
)

type bucket struct {
	tokens float64
	last   time.Time
}

type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	// mu guards buckets.
	mu      sync.Mutex
	buckets map[string]*bucket
}

func newRateLimiter(rate, burst float64, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket and reports whether there was one.
func (l *rateLimiter) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) >= limiterSweepSize {
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware wraps next, outermost first: request log, panic recovery, rate limit, CORS, cache
// control, session key.
func (s *Server) middleware(next http.Handler) http.Handler {
	h := s.sessionKey(next)
	h = cacheControl(h)
	h = s.cors(h)
	h = s.rateLimit(h)
	h = s.recoverPanics(h)
	return s.logRequests(h)
}

// logRequests logs method, path, status and duration; never query strings, bodies or headers,
// which may hold keys.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if !isHealthPath(r.URL.Path) {
			s.lastActive.Store(s.now().UnixNano())
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// recoverPanics turns a handler panic into a JSON 500 that reveals nothing; the panic value and
// stack go to the log.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal server error"})
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/assets") || s.limiter.allow(clientIP(r)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, messageBody{Message: "Too many requests"})
	})
}

// clientIP is the peer address. Forwarding headers are not trusted: any client could set them to
// escape its limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

const corsMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"

// originAllowed applies OpenHands' LocalhostCORSMiddleware rule (server.md §6.1).
func (s *Server) originAllowed(origin string) bool {
	if len(s.opts.CORSOrigins) > 0 {
		for _, o := range s.opts.CORSOrigins {
			if o = strings.TrimSpace(o); o == "*" || o == origin {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1"
}

func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := s.originAllowed(origin)
		h := w.Header()
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Origin")
			if !allowed {
				h.Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte("Disallowed CORS origin"))
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", corsMethods)
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "600")
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("OK"))
			return
		}
		h.Set("Access-Control-Allow-Credentials", "true")
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// cacheControl forbids caching of everything but the hashed bundles under /assets (server.md §6.2).
func cacheControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if strings.HasPrefix(r.URL.Path, "/assets") {
			h.Set("Cache-Control", "public, max-age=2592000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
			h.Set("Pragma", "no-cache")
			h.Set("Expires", "0")
		}
		next.ServeHTTP(w, r)
	})
}

func isHealthPath(p string) bool {
	return p == "/alive" || p == "/health" || p == "/server_info"
}

// sessionKey enforces X-Session-API-Key when one is configured (server.md §1.1), except on the
// health probes and the static files.
func (s *Server) sessionKey(next http.Handler) http.Handler {
	key := s.opts.SessionAPIKey
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key == "" || isHealthPath(r.URL.Path) || s.isStaticRoute(r) {
			next.ServeHTTP(w, r)
			return
		}
		got := r.Header.Get("X-Session-API-Key")
		if subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
			writeJSON(w, http.StatusUnauthorized, detailBody{Detail: "Unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
