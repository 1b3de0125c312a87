package controller

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage/eventlog"
)

// BenchmarkStep measures the agent loop's own cost per step: an agent that answers at once with a
// run action (its tool call and timeout attached), a runtime that answers at once, the real
// durable stream. One step is two appended events (the action and its observation) plus the
// controller's work: the stuck check over the growing history, the limits, llm_metrics. "fsync"
// is what users get; "nosync" shows what the disk costs.
func BenchmarkStep(b *testing.B) {
	for _, tc := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(tc.name, func(b *testing.B) { benchSteps(b, tc.noSync) })
	}
}

func benchSteps(b *testing.B, noSync bool) {
	s := openStream(b, "", eventlog.Options{NoSync: noSync})
	startRuntime(b, s)
	startMemory(b, s)
	steps := b.N
	timeout := 120.0
	ag := &scripted{fn: func(_ context.Context, n int, _ *agent.State) (events.Action, *agent.StepInfo, error) {
		if n > steps {
			return finish(), nil, nil
		}
		info := toolCall("execute_bash", n)
		info.Timeout = &timeout
		// Commands differ, as a working agent's do: identical ones would be stopped as a loop.
		return &events.CmdRunAction{Command: "echo " + strconv.Itoa(n), Blocking: true,
			ConfirmationState: events.ConfirmationConfirmed}, info, nil
	}}
	metrics := events.Metrics{AccumulatedCost: 0.5, AccumulatedTokenUsage: events.TokenUsage{Model: "default", PromptTokens: 1000}}
	c := start(b, s, ag, Config{MaxIterations: steps + 10, Metrics: func() events.Metrics { return metrics }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.ResetTimer()
	began := time.Now()
	userSays(b, s, "benchmark")
	if st, err := c.Wait(ctx); err != nil || st != events.StateFinished {
		b.Fatalf("state %s (%v): %s", st, err, c.LastError())
	}
	elapsed := time.Since(began)
	b.StopTimer()
	// b.N steps plus the finishing step and the message's recall round trip.
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
}
