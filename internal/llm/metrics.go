package llm

import (
	"sync"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// DefaultMetricsModel is the model name OpenHands writes inside metrics entries of
// controller-driven conversations: the State's Metrics object is created without one.
const DefaultMetricsModel = "default"

// Metrics accumulates what calls cost, in OpenHands' llm_metrics shape (openhands/llm/metrics.py):
// one cost, latency and token-usage entry per call, running totals beside them. It is safe for
// concurrent use; Snapshot returns a copy to serialize.
type Metrics struct {
	// mu guards model and m.
	mu    sync.Mutex
	model string
	m     events.Metrics
}

// NewMetrics returns empty metrics whose entries carry the given model name ("" means
// DefaultMetricsModel).
func NewMetrics(model string) *Metrics {
	if model == "" {
		model = DefaultMetricsModel
	}
	return &Metrics{model: model, m: events.Metrics{AccumulatedTokenUsage: events.TokenUsage{Model: model}}}
}

// SetModel changes the model name written into later entries and into the accumulated usage.
func (m *Metrics) SetModel(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.model = name
	m.m.AccumulatedTokenUsage.Model = name
}

// Model is the name written into entries.
func (m *Metrics) Model() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.model
}

// SetMaxBudgetPerTask records the budget limit shown with the metrics (nil: none).
func (m *Metrics) SetMaxBudgetPerTask(v *float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v != nil {
		c := *v
		v = &c
	}
	m.m.MaxBudgetPerTask = v
}

// AddCost records the price of one call, stamped with at.
func (m *Metrics) AddCost(cost float64, at time.Time) {
	if cost < 0 {
		cost = 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.AccumulatedCost += cost
	m.m.Costs = append(m.m.Costs, events.Cost{Model: m.model, Cost: cost, Timestamp: epochSeconds(at)})
}

// AddResponseLatency records how long one call took.
func (m *Metrics) AddResponseLatency(d time.Duration, responseID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.ResponseLatencies = append(m.m.ResponseLatencies,
		events.ResponseLatency{Model: m.model, Latency: max(d.Seconds(), 0), ResponseID: responseID})
}

// AddTokenUsage records the tokens of one call. contextWindow is the model's input limit (0 when
// unknown); the accumulated usage keeps the largest seen, and per_turn_token of the latest call.
func (m *Metrics) AddTokenUsage(u Usage, contextWindow int, responseID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	entry := events.TokenUsage{
		Model:            m.model,
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		CacheReadTokens:  u.CacheReadTokens,
		CacheWriteTokens: u.CacheWriteTokens,
		ContextWindow:    contextWindow,
		PerTurnToken:     u.PromptTokens + u.CompletionTokens,
		ResponseID:       responseID,
	}
	m.m.TokenUsages = append(m.m.TokenUsages, entry)
	entry.ResponseID = ""
	m.m.AccumulatedTokenUsage = addUsage(m.m.AccumulatedTokenUsage, entry)
}

// Merge adds other's totals and entries to m (OpenHands merges a condenser's or draft editor's
// metrics into the conversation's).
func (m *Metrics) Merge(other events.Metrics) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.AccumulatedCost += other.AccumulatedCost
	if m.m.MaxBudgetPerTask == nil && other.MaxBudgetPerTask != nil {
		v := *other.MaxBudgetPerTask
		m.m.MaxBudgetPerTask = &v
	}
	m.m.Costs = append(m.m.Costs, other.Costs...)
	m.m.ResponseLatencies = append(m.m.ResponseLatencies, other.ResponseLatencies...)
	m.m.TokenUsages = append(m.m.TokenUsages, other.TokenUsages...)
	m.m.AccumulatedTokenUsage = addUsage(m.m.AccumulatedTokenUsage, other.AccumulatedTokenUsage)
}

// Snapshot returns a deep copy, with empty lists rather than nil ones so it serializes as
// OpenHands does.
func (m *Metrics) Snapshot() events.Metrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.m
	if s.MaxBudgetPerTask != nil {
		v := *s.MaxBudgetPerTask
		s.MaxBudgetPerTask = &v
	}
	s.Costs = append(make([]events.Cost, 0, len(s.Costs)), s.Costs...)
	s.ResponseLatencies = append(make([]events.ResponseLatency, 0, len(s.ResponseLatencies)), s.ResponseLatencies...)
	s.TokenUsages = append(make([]events.TokenUsage, 0, len(s.TokenUsages)), s.TokenUsages...)
	return s
}

// addUsage is TokenUsage.__add__: sums, the larger context window, the newer per-turn count, and
// the left side's model and response id.
func addUsage(a, b events.TokenUsage) events.TokenUsage {
	return events.TokenUsage{
		Model:            a.Model,
		PromptTokens:     a.PromptTokens + b.PromptTokens,
		CompletionTokens: a.CompletionTokens + b.CompletionTokens,
		CacheReadTokens:  a.CacheReadTokens + b.CacheReadTokens,
		CacheWriteTokens: a.CacheWriteTokens + b.CacheWriteTokens,
		ContextWindow:    max(a.ContextWindow, b.ContextWindow),
		PerTurnToken:     b.PerTurnToken,
		ResponseID:       a.ResponseID,
	}
}

func epochSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
