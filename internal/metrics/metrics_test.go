package metrics

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// scrape fetches m's exposition over real HTTP.
func scrape(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestMetricsScrape(t *testing.T) {
	m := New()
	m.ConversationStarted()
	m.ConversationStarted()
	m.ConversationStarted()
	m.ConversationClosed()
	m.ConnectionOpened()
	m.ConnectionOpened()
	m.ConnectionClosed()
	for range 5 {
		m.AgentStep()
	}
	m.LLMUsage("gpt-4o", 100, 20, 0.25)
	m.LLMUsage("gpt-4o", 50, 10, 0.125)
	m.LLMUsage("anthropic/claude-sonnet-4", 7, 3, 0.5)
	m.LLMUsage("gpt-4o", -5, -1, -2) // ignored: counters only go up
	m.LLMUsage("gpt-4o", 0, 0, math.NaN())
	m.LLMUsage("gpt-4o", 0, 0, math.Inf(1))
	m.LLMUsage("", 1, 0, 0)
	m.LLMUsage("bad\xffname", 2, 0, 0)
	m.SandboxStarted("docker", 1500*time.Millisecond)
	m.SandboxStarted("docker", 40*time.Millisecond)
	m.SandboxStarted("local", 70*time.Millisecond)
	m.EventAppended("agent")
	m.EventAppended("agent")
	m.EventAppended("user")

	status, body := scrape(t, m.Handler())
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	want := []string{
		"gohands_active_conversations 2",
		"gohands_socket_connections 1",
		"gohands_agent_steps_total 5",
		`gohands_llm_tokens_total{kind="prompt",model="gpt-4o"} 150`,
		`gohands_llm_tokens_total{kind="completion",model="gpt-4o"} 30`,
		`gohands_llm_tokens_total{kind="prompt",model="anthropic/claude-sonnet-4"} 7`,
		`gohands_llm_tokens_total{kind="completion",model="anthropic/claude-sonnet-4"} 3`,
		`gohands_llm_tokens_total{kind="prompt",model="unknown"} 1`,
		"gohands_llm_tokens_total{kind=\"prompt\",model=\"bad\uFFFDname\"} 2",
		`gohands_llm_cost_usd_total{model="gpt-4o"} 0.375`,
		`gohands_llm_cost_usd_total{model="anthropic/claude-sonnet-4"} 0.5`,
		`gohands_sandbox_start_seconds_bucket{kind="docker",le="0.05"} 1`,
		`gohands_sandbox_start_seconds_bucket{kind="docker",le="1"} 1`,
		`gohands_sandbox_start_seconds_bucket{kind="docker",le="2.5"} 2`,
		`gohands_sandbox_start_seconds_bucket{kind="docker",le="60"} 2`,
		`gohands_sandbox_start_seconds_bucket{kind="docker",le="+Inf"} 2`,
		`gohands_sandbox_start_seconds_count{kind="docker"} 2`,
		`gohands_sandbox_start_seconds_sum{kind="docker"} 1.54`,
		`gohands_sandbox_start_seconds_bucket{kind="local",le="0.05"} 0`,
		`gohands_sandbox_start_seconds_bucket{kind="local",le="0.1"} 1`,
		`gohands_events_appended_total{source="agent"} 2`,
		`gohands_events_appended_total{source="user"} 1`,
		"# TYPE gohands_active_conversations gauge",
		"# TYPE gohands_agent_steps_total counter",
		"# TYPE gohands_sandbox_start_seconds histogram",
		// The Go and process collectors are registered.
		"go_goroutines ",
		"process_start_time_seconds ",
	}
	lines := strings.Split(body, "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if l == w || (strings.HasSuffix(w, " ") && strings.HasPrefix(l, w)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("scrape lacks %q", w)
		}
	}
	if strings.Contains(body, `model="gpt-4o"} -`) {
		t.Errorf("negative usage was recorded:\n%s", body)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

// Two Metrics do not share state: each has its own registry.
func TestMetricsIndependent(t *testing.T) {
	a, b := New(), New()
	a.AgentStep()
	_, body := scrape(t, b.Handler())
	if !strings.Contains(body, "\ngohands_agent_steps_total 0\n") {
		t.Errorf("second registry saw the first's step:\n%s", body)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ConversationStarted()
	m.ConversationClosed()
	m.ConnectionOpened()
	m.ConnectionClosed()
	m.AgentStep()
	m.LLMUsage("gpt-4o", 1, 1, 1)
	m.SandboxStarted("docker", time.Second)
	m.EventAppended("agent")
	if status, _ := scrape(t, m.Handler()); status != http.StatusNotFound {
		t.Errorf("nil Metrics handler: status %d, want 404", status)
	}
}

func TestMetricsConcurrent(t *testing.T) {
	m := New()
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				m.EventAppended("environment")
				m.LLMUsage("m", 1, 1, 0.01)
			}
		}()
	}
	for range 8 {
		<-done
	}
	_, body := scrape(t, m.Handler())
	if !strings.Contains(body, `gohands_events_appended_total{source="environment"} 800`) {
		t.Errorf("lost increments:\n%s", body)
	}
}

func BenchmarkEventAppended(b *testing.B) {
	m := New()
	for b.Loop() {
		m.EventAppended("agent")
	}
}
