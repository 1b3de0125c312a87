package llm

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/config"
)

// retryPolicy is OpenHands' tenacity policy: stop_after_attempt(num_retries) with
// wait_exponential(multiplier, min, max), i.e. the wait after attempt n is
// multiplier × 2^(n−1) seconds, clamped to [min_wait, max_wait].
type retryPolicy struct {
	attempts           int
	minWait, maxWait   time.Duration
	multiplier         float64
	attemptTimeout     time.Duration // 0: none
	honourRetryAfterUp time.Duration // Retry-After is honoured up to this wait
}

func newRetryPolicy(cfg config.LLM) retryPolicy {
	p := retryPolicy{
		attempts:   max(cfg.NumRetries, 1),
		minWait:    time.Duration(max(cfg.RetryMinWait, 0)) * time.Second,
		maxWait:    time.Duration(max(cfg.RetryMaxWait, 0)) * time.Second,
		multiplier: cfg.RetryMultiplier,
	}
	if p.maxWait < p.minWait {
		p.maxWait = p.minWait
	}
	if cfg.Timeout != nil && *cfg.Timeout > 0 {
		p.attemptTimeout = time.Duration(*cfg.Timeout) * time.Second
	}
	p.honourRetryAfterUp = p.maxWait
	return p
}

// backoff is the wait after the given failed attempt (1-based), before any Retry-After.
func (p retryPolicy) backoff(attempt int) time.Duration {
	secs := p.multiplier * math.Pow(2, float64(attempt-1))
	d := time.Duration(secs * float64(time.Second))
	if secs*float64(time.Second) > float64(p.maxWait) || d > p.maxWait {
		d = p.maxWait
	}
	return max(d, p.minWait)
}

// wait is the pause after a failed attempt: the backoff, or the provider's Retry-After when that
// is longer, never beyond max_wait (a daily-quota Retry-After would otherwise park the agent).
func (p retryPolicy) wait(attempt int, retryAfter time.Duration) time.Duration {
	d := p.backoff(attempt)
	if retryAfter > d {
		d = min(retryAfter, p.honourRetryAfterUp)
	}
	return d
}

// retryAfter reads retry-after-ms (OpenAI, Azure) or Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// attemptInfo is what the transport saw of one attempt's HTTP answer. Every SDK hands the caller's
// context to its requests, so the transport finds it there; this gives one way to read Retry-After
// even from SDKs whose errors drop the headers.
type attemptInfo struct {
	// mu guards status and header.
	mu     sync.Mutex
	status int
	header http.Header
}

type attemptKey struct{}

func (a *attemptInfo) record(resp *http.Response) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.header = resp.StatusCode, resp.Header.Clone()
}

func (a *attemptInfo) get() (int, http.Header) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, a.header
}

// recordingTransport notes each response's status and headers in the attempt's attemptInfo.
type recordingTransport struct{ base http.RoundTripper }

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if info, ok := req.Context().Value(attemptKey{}).(*attemptInfo); ok {
			info.record(resp)
		}
	}
	return resp, err
}

// httpClientFor wraps the caller's client (or a default one) with the recording transport. The
// SDKs' own retries are off, so one attempt is one request.
func httpClientFor(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = recordingTransport{base: rt}
	return c
}
