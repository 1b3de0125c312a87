package llm_test

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/llm/llmtest"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestMetricsAccumulateWithTablePrices(t *testing.T) {
	t1 := llmtest.Reply("one").WithUsage(1000, 100)
	t2 := llmtest.Reply("two").WithUsage(2000, 50)
	t2.CacheReadTokens = 1500
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{t1, t2})
	// A clock that advances 250 ms per reading: each call's latency is one step.
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(250 * time.Millisecond)
		return now
	}
	cfg := config.DefaultLLM()
	cfg.Model, cfg.BaseURL, cfg.APIKey = "openai/gpt-4o", srv.URL, config.NewSecret(testKey)
	c, err := llm.New(cfg, llm.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r1, err := c.Complete(ctx, llm.Request{Messages: conversation("1")})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Complete(ctx, llm.Request{Messages: conversation("2")})
	if err != nil {
		t.Fatal(err)
	}
	// gpt-4o: $2.50 / $10 per million, cached input $1.25.
	want1 := 1000*2.5e-6 + 100*10e-6
	want2 := 500*2.5e-6 + 1500*1.25e-6 + 50*10e-6
	if !near(r1.Cost, want1) || !near(r2.Cost, want2) {
		t.Errorf("costs %v %v, want %v %v", r1.Cost, r2.Cost, want1, want2)
	}
	if r1.Latency != 250*time.Millisecond {
		t.Errorf("latency = %v", r1.Latency)
	}

	m := c.Metrics().Snapshot()
	if !near(m.AccumulatedCost, want1+want2) || len(m.Costs) != 2 || m.Costs[0].Model != "default" || m.Costs[1].Timestamp < 1_700_000_000 {
		t.Errorf("costs = %v %+v", m.AccumulatedCost, m.Costs)
	}
	if len(m.ResponseLatencies) != 2 || m.ResponseLatencies[1].ResponseID != "chatcmpl-llmtest-2" || m.ResponseLatencies[0].Latency != 0.25 {
		t.Errorf("latencies = %+v", m.ResponseLatencies)
	}
	acc := m.AccumulatedTokenUsage
	wantAcc := events.TokenUsage{Model: "default", PromptTokens: 3000, CompletionTokens: 150, CacheReadTokens: 1500,
		ContextWindow: 128000, PerTurnToken: 2050, ResponseID: ""}
	if acc != wantAcc {
		t.Errorf("accumulated = %+v\nwant          %+v", acc, wantAcc)
	}
	if len(m.TokenUsages) != 2 || m.TokenUsages[0].ResponseID != "chatcmpl-llmtest-1" || m.TokenUsages[0].PerTurnToken != 1100 {
		t.Errorf("token usages = %+v", m.TokenUsages)
	}

	// The snapshot is a copy, and the model name can be set for later entries.
	m.Costs[0].Cost = 99
	c.Metrics().SetModel("agent")
	if c.Metrics().Snapshot().Costs[0].Cost == 99 || c.Metrics().Snapshot().AccumulatedTokenUsage.Model != "agent" {
		t.Errorf("snapshot shares memory or SetModel ignored")
	}
}

func TestMetricsCostOverrideAndUnknownModel(t *testing.T) {
	srv := llmtest.NewOpenAIServer(t, []llmtest.Turn{llmtest.Reply("a").WithUsage(1000, 1000), llmtest.Reply("b").WithUsage(1000, 1000)})
	c, _ := newClient(t, "openai/gpt-4o", srv.URL, func(cfg *config.LLM) {
		cfg.InputCostPerToken, cfg.OutputCostPerToken = ptr(1e-6), ptr(2e-6)
	})
	r, err := c.Complete(context.Background(), llm.Request{Messages: conversation("x")})
	if err != nil || !near(r.Cost, 0.003) {
		t.Fatalf("cost = %v (%v), want the configured 1000×1e-6 + 1000×2e-6", r.Cost, err)
	}

	// A model without a price records tokens but no cost entry, as OpenHands does.
	u, _ := newClient(t, "hosted_vllm/my-model", srv.URL, nil)
	r, err = u.Complete(context.Background(), llm.Request{Messages: conversation("x")})
	if err != nil || r.Cost != 0 {
		t.Fatal(r, err)
	}
	m := u.Metrics().Snapshot()
	if len(m.Costs) != 0 || len(m.TokenUsages) != 1 || m.AccumulatedTokenUsage.ContextWindow != 0 {
		t.Errorf("metrics = %+v", m)
	}
}

func TestSharedMetricsAndJSONShape(t *testing.T) {
	shared := llm.NewMetrics("")
	srv := llmtest.NewAnthropicServer(t, []llmtest.Turn{llmtest.Reply("a").WithUsage(10, 5)})
	cfg := config.DefaultLLM()
	cfg.Model, cfg.BaseURL, cfg.APIKey = "anthropic/claude-sonnet-4-20250514", srv.URL, config.NewSecret(testKey)
	c, err := llm.New(cfg, llm.Options{Metrics: shared})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(context.Background(), llm.Request{Messages: conversation("x")}); err != nil {
		t.Fatal(err)
	}
	if c.Metrics() != shared {
		t.Fatal("Options.Metrics not used")
	}
	empty, _ := json.Marshal(llm.NewMetrics("").Snapshot())
	want := `{"accumulated_cost":0,"max_budget_per_task":null,"accumulated_token_usage":{"model":"default","prompt_tokens":0,"completion_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"context_window":0,"per_turn_token":0,"response_id":""},"costs":[],"response_latencies":[],"token_usages":[]}`
	if string(empty) != want {
		t.Errorf("empty metrics JSON\n got %s\nwant %s", empty, want)
	}
}

func TestMetricsConcurrentUse(t *testing.T) {
	m := llm.NewMetrics("")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				m.AddCost(0.5, time.Now())
				m.AddTokenUsage(llm.Usage{PromptTokens: 1, CompletionTokens: 1}, i, "r")
				m.AddResponseLatency(time.Millisecond, "r")
				_ = m.Snapshot()
			}
		})
	}
	wg.Wait()
	s := m.Snapshot()
	if s.AccumulatedCost != 400 || s.AccumulatedTokenUsage.PromptTokens != 800 || len(s.TokenUsages) != 800 || s.AccumulatedTokenUsage.ContextWindow != 7 {
		t.Errorf("snapshot = %v %+v %d", s.AccumulatedCost, s.AccumulatedTokenUsage, len(s.TokenUsages))
	}
	other := llm.NewMetrics("draft_editor")
	other.AddCost(1, time.Now())
	m.Merge(other.Snapshot())
	if s := m.Snapshot(); s.AccumulatedCost != 401 || len(s.Costs) != 801 {
		t.Errorf("merge: %v %d", s.AccumulatedCost, len(s.Costs))
	}
}
