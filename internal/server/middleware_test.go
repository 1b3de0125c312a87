package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	f := newFixture(t, Options{})
	preflight := func(origin string) (*http.Response, string) {
		return f.do("OPTIONS", "/api/settings", "", "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "X-Session-API-Key, Content-Type")
	}
	for _, origin := range []string{"http://localhost:3001", "http://127.0.0.1:3000", "https://localhost"} {
		resp, _ := preflight(origin)
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Session-API-Key") ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
	}
	resp, body := preflight("http://evil.example")
	if resp.StatusCode != 400 || resp.Header.Get("Access-Control-Allow-Origin") != "" || body != "Disallowed CORS origin" {
		t.Errorf("preflight from evil: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = f.do("GET", "/api/options/agents", "", "Origin", "http://localhost:3001")
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3001" {
		t.Errorf("simple request from localhost: %v", resp.Header)
	}
	resp, _ = f.do("GET", "/api/options/agents", "", "Origin", "http://evil.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("simple request from evil: %d %v", resp.StatusCode, resp.Header)
	}

	g := newFixture(t, Options{CORSOrigins: []string{"https://app.example"}})
	resp, _ = g.do("OPTIONS", "/api/settings", "", "Origin", "http://localhost:3001", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 400 {
		t.Errorf("configured origins still allow localhost: %d", resp.StatusCode)
	}
	resp, _ = g.do("OPTIONS", "/api/settings", "", "Origin", "https://app.example", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 200 {
		t.Errorf("configured origin refused: %d", resp.StatusCode)
	}
}

func TestCacheControl(t *testing.T) {
	f := newFixture(t, Options{})
	for _, p := range []string{"/api/options/config", "/api/settings", "/api/nope", "/alive"} {
		resp, _ := f.do("GET", p, "")
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q", p, cc)
		}
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2025, 7, 30, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, Options{Now: func() time.Time { return now }}) // frozen: the bucket never refills
	for i := range rateLimitBurst {
		if resp, body := f.do("GET", "/alive", ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := f.do("GET", "/api/options/agents", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || strings.TrimSpace(body) != `{"message":"Too many requests"}` {
		t.Fatalf("over the limit: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// /assets is exempt.
	if resp, _ := f.do("GET", "/assets/x.js", ""); resp.StatusCode == 429 {
		t.Errorf("/assets was rate limited")
	}
}

func TestRateLimiterRefills(t *testing.T) {
	var mu sync.Mutex
	clock := int64(0)
	l := newRateLimiter(20, 20, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Unix(0, clock)
	})
	for range 20 {
		if !l.allow("a") {
			t.Fatal("refused within burst")
		}
	}
	if l.allow("a") {
		t.Fatal("allowed over burst")
	}
	if !l.allow("b") {
		t.Fatal("another client shares the bucket")
	}
	mu.Lock()
	clock += int64(100 * time.Millisecond) // 2 tokens
	mu.Unlock()
	if !l.allow("a") || !l.allow("a") || l.allow("a") {
		t.Fatal("refill is not 20 per second")
	}
}

func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	f.srv.mux.HandleFunc("GET /api/test-panic", func(http.ResponseWriter, *http.Request) {
		panic("secret internals sk-123")
	})
	resp, body := f.do("GET", "/api/test-panic", "")
	if resp.StatusCode != 500 || strings.TrimSpace(body) != `{"error":"internal server error"}` {
		t.Fatalf("panic: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "handler panic") {
		t.Errorf("panic not logged: %s", logs.String())
	}
	// The server is still serving.
	f.expect("GET", "/alive", "", 200, "")
}

func TestSessionAPIKey(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, Options{SessionAPIKey: "sess-key", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, p := range []string{"/alive", "/health", "/server_info"} {
		f.expect("GET", p, "", 200, "")
	}
	f.expect("GET", "/api/options/config", "", 401, `{"detail":"Unauthorized"}`)
	if resp, _ := f.do("GET", "/api/options/config", "", "X-Session-API-Key", "wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong key: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/api/options/config", "", "X-Session-API-Key", "sess-key"); resp.StatusCode != 200 {
		t.Errorf("right key: %d", resp.StatusCode)
	}
	// Preflights carry no custom headers, so CORS answers them before the key check.
	if resp, _ := f.do("OPTIONS", "/api/settings", "", "Origin", "http://localhost:3001", "Access-Control-Request-Method", "GET"); resp.StatusCode != 200 {
		t.Errorf("preflight with session key configured: %d", resp.StatusCode)
	}
	out := logs.String()
	if strings.Contains(out, "sess-key") {
		t.Errorf("key logged: %s", out)
	}
	for _, want := range []string{"method=GET", "path=/api/options/config", "status=401", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("request log lacks %s: %s", want, out)
		}
	}
}
