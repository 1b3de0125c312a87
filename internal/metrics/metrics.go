// Package metrics exposes gohands' Prometheus metrics: live conversations and socket connections,
// agent steps, LLM tokens and cost, sandbox start times and appended events. Each Metrics owns its
// registry, so tests and several servers in one process never share counters.
package metrics

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// sandboxStartBuckets cover a warm local process (tens of milliseconds) up to a cold image pull
// that hits the one-minute mark.
var sandboxStartBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60}

// Metrics records gohands' metrics. Make one with New; a nil *Metrics records nothing, so callers
// need not check whether metrics are enabled.
type Metrics struct {
	reg *prometheus.Registry

	activeConversations prometheus.Gauge
	socketConnections   prometheus.Gauge
	agentSteps          prometheus.Counter
	llmTokens           *prometheus.CounterVec
	llmCost             *prometheus.CounterVec
	sandboxStart        *prometheus.HistogramVec
	eventsAppended      *prometheus.CounterVec
}

// New returns a Metrics with its own registry, which also carries the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		activeConversations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gohands_active_conversations",
			Help: "Conversations whose agent loop is running.",
		}),
		socketConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gohands_socket_connections",
			Help: "Open Socket.IO connections.",
		}),
		agentSteps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gohands_agent_steps_total",
			Help: "Agent steps taken, across all conversations.",
		}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gohands_llm_tokens_total",
			Help: "LLM tokens used, by model and kind (prompt or completion).",
		}, []string{"model", "kind"}),
		llmCost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gohands_llm_cost_usd_total",
			Help: "LLM cost in US dollars, by model.",
		}, []string{"model"}),
		sandboxStart: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gohands_sandbox_start_seconds",
			Help:    "Time from asking for a sandbox to its being ready, by kind.",
			Buckets: sandboxStartBuckets,
		}, []string{"kind"}),
		eventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gohands_events_appended_total",
			Help: "Events appended to conversation streams, by source.",
		}, []string{"source"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.activeConversations, m.socketConnections, m.agentSteps,
		m.llmTokens, m.llmCost, m.sandboxStart, m.eventsAppended,
	)
	return m
}

// Handler serves the registry in the Prometheus exposition format. On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ConversationStarted counts an agent loop that started.
func (m *Metrics) ConversationStarted() {
	if m != nil {
		m.activeConversations.Inc()
	}
}

// ConversationClosed counts an agent loop that ended.
func (m *Metrics) ConversationClosed() {
	if m != nil {
		m.activeConversations.Dec()
	}
}

// ConnectionOpened counts a socket connection that opened.
func (m *Metrics) ConnectionOpened() {
	if m != nil {
		m.socketConnections.Inc()
	}
}

// ConnectionClosed counts a socket connection that closed.
func (m *Metrics) ConnectionClosed() {
	if m != nil {
		m.socketConnections.Dec()
	}
}

// AgentStep counts one agent step.
func (m *Metrics) AgentStep() {
	if m != nil {
		m.agentSteps.Inc()
	}
}

// LLMUsage adds one completion's tokens and cost for model. Negative or non-finite amounts are
// ignored: counters only go up, and a provider reporting garbage must not crash the caller.
func (m *Metrics) LLMUsage(model string, promptTokens, completionTokens int, costUSD float64) {
	if m == nil {
		return
	}
	model = labelValue(model)
	if promptTokens > 0 {
		m.llmTokens.WithLabelValues(model, "prompt").Add(float64(promptTokens))
	}
	if completionTokens > 0 {
		m.llmTokens.WithLabelValues(model, "completion").Add(float64(completionTokens))
	}
	if costUSD > 0 && !math.IsInf(costUSD, 1) {
		m.llmCost.WithLabelValues(model).Add(costUSD)
	}
}

// SandboxStarted records how long a sandbox of kind (docker, local, …) took to become ready.
func (m *Metrics) SandboxStarted(kind string, d time.Duration) {
	if m != nil {
		m.sandboxStart.WithLabelValues(labelValue(kind)).Observe(d.Seconds())
	}
}

// EventAppended counts one event appended by source (agent, user, environment).
func (m *Metrics) EventAppended(source string) {
	if m != nil {
		m.eventsAppended.WithLabelValues(labelValue(source)).Inc()
	}
}

// labelValue makes s a label value Prometheus accepts: client_golang panics on invalid UTF-8, and
// the model name comes from user settings.
func labelValue(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
