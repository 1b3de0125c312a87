package sandbox

import (
	"context"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// Run by bench/sandbox.sh.

// quantile returns the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkDockerStartReady times "start sandbox" until the action server answers (container
// create, start, first /alive; removal is not timed), interleaved with the engine's own floor for
// a container, `docker run --rm --network none IMAGE true`, on the same image: ready-p50-ms,
// bare-p50-ms and their ratio. ns/op covers both.
func BenchmarkDockerStartReady(b *testing.B) {
	testEngine(b)
	var ready, bare []time.Duration
	for b.Loop() {
		b.StopTimer()
		d := newDockerRuntime(b, DockerOptions{})
		b.StartTimer()
		start := time.Now()
		if err := d.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		ready = append(ready, time.Since(start))
		b.StopTimer()
		if err := d.Delete(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start = time.Now()
		if out, err := exec.Command("docker", "run", "--rm", "--network", "none", testImage, "true").CombinedOutput(); err != nil {
			b.Fatalf("docker run: %v\n%s", err, out)
		}
		bare = append(bare, time.Since(start))
	}
	r, br := quantile(ready, 0.5), quantile(bare, 0.5)
	b.ReportMetric(ms(r), "ready-p50-ms")
	b.ReportMetric(ms(br), "bare-p50-ms")
	b.ReportMetric(float64(r)/float64(br), "ready/bare")
}

// BenchmarkDockerEchoRoundTrip times `echo hi` from Run to observation through the unix socket.
func BenchmarkDockerEchoRoundTrip(b *testing.B) {
	d := startDocker(b, DockerOptions{})
	runCmd(b, d, "echo warm", 10*time.Second)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		o := runCmd(b, d, "echo hi", 10*time.Second)
		took = append(took, time.Since(start))
		if o.Metadata.ExitCode != 0 {
			b.Fatalf("echo hi: exit %d", o.Metadata.ExitCode)
		}
	}
	b.ReportMetric(ms(quantile(took, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(took, 0.99)), "p99-ms")
}

// BenchmarkDockerSocketRoundTrip times GET /alive through the unix socket: the transport's share
// of an action's round trip.
func BenchmarkDockerSocketRoundTrip(b *testing.B) {
	d := startDocker(b, DockerOptions{})
	c := d.current()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := c.Alive(context.Background()); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.ReportMetric(ms(quantile(took, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(took, 0.99)), "p99-ms")
}

// BenchmarkDockerConcurrentStarts20 starts 20 sandboxes at once and times until all answer.
func BenchmarkDockerConcurrentStarts20(b *testing.B) {
	const n = 20
	testEngine(b)
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		sandboxes := make([]*Docker, n)
		for i := range sandboxes {
			sandboxes[i] = newDockerRuntime(b, DockerOptions{})
		}
		b.StartTimer()
		start := time.Now()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, d := range sandboxes {
			wg.Go(func() { errs[i] = d.Start(context.Background()) })
		}
		wg.Wait()
		took = append(took, time.Since(start))
		b.StopTimer()
		for i, err := range errs {
			if err != nil {
				b.Errorf("sandbox %d of %d: %v", i, n, err)
			}
		}
		for _, d := range sandboxes {
			wg.Go(func() { d.Delete(context.Background()) })
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		b.StartTimer()
	}
	b.ReportMetric(ms(quantile(took, 0.5)), "p50-ms")
	b.ReportMetric(float64(n), "sandboxes")
}
