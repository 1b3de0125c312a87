package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// pidsInUse is the number of processes the engine counts in d's container.
func pidsInUse(t *testing.T, d *Docker) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := d.engine.cli.ContainerStats(ctx, d.name, client.ContainerStatsOptions{})
	if err != nil {
		t.Fatalf("stats of %s: %v", d.name, err)
	}
	defer res.Body.Close()
	var s struct {
		PidsStats struct {
			Current uint64 `json:"current"`
		} `json:"pids_stats"`
	}
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatalf("stats of %s: %v", d.name, err)
	}
	return s.PidsStats.Current
}

// keepsAnswering runs echo in d every 200ms for the given time and fails if one takes longer
// than limit.
func keepsAnswering(t *testing.T, d *Docker, period, limit time.Duration) {
	t.Helper()
	var worst time.Duration
	n := 0
	for end := time.Now().Add(period); time.Now().Before(end); n++ {
		start := time.Now()
		o := runCmd(t, d, fmt.Sprintf("echo still-here-%d", n), 10*time.Second)
		took := time.Since(start)
		worst = max(worst, took)
		if !strings.Contains(o.Content, fmt.Sprintf("still-here-%d", n)) {
			t.Fatalf("other conversation answered %q", o.Content)
		}
		if took > limit {
			t.Errorf("other conversation took %s to echo (limit %s)", took, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("other conversation: %d echoes, slowest %s", n, worst)
}

func TestDockerForkBombStopsAtPidsLimit(t *testing.T) {
	const limit = 64
	bomb := startDocker(t, DockerOptions{PidsLimit: limit, CPUs: 0.5})
	other := startDocker(t, DockerOptions{})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		// The bomb outlives the action's timeout; the action server itself may not survive a
		// container where no thread can be created, so an error is fine here.
		o, err := tryCmd(ctx, bomb, ":(){ :|:& };:", 5*time.Second)
		if err == nil {
			t.Logf("fork bomb observation: exit %d, %.200q", o.Metadata.ExitCode, o.Content)
		} else {
			t.Logf("fork bomb: %v", err)
		}
	})
	time.Sleep(time.Second) // let it fill the container
	keepsAnswering(t, other, 4*time.Second, 2*time.Second)
	if n := pidsInUse(t, bomb); n > limit {
		t.Errorf("%d processes in the bombed container, over the limit of %d", n, limit)
	} else {
		t.Logf("bombed container holds %d processes (limit %d)", n, limit)
	}
	wg.Wait()
}

func TestDockerMemoryHogIsKilled(t *testing.T) {
	hog := startDocker(t, DockerOptions{MemoryBytes: 64 << 20})
	other := startDocker(t, DockerOptions{})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		// tail keeps everything it reads from a stream without newlines: it grows until killed.
		o, err := tryCmd(ctx, hog, "for i in 1 2 3 4 5; do head -c 512m /dev/zero | tail; echo exit=$?; done", 30*time.Second)
		if err != nil {
			t.Errorf("memory hog: %v", err)
			return
		}
		if strings.Count(o.Content, "exit=137") != 5 {
			t.Errorf("want tail killed (exit 137) five times, got %q", o.Content)
		}
	})
	keepsAnswering(t, other, 3*time.Second, 2*time.Second)
	wg.Wait()
	// The sandbox itself survives: only the hog was killed.
	if o := runCmd(t, hog, "echo survived", 10*time.Second); strings.TrimSpace(o.Content) != "survived" {
		t.Fatalf("hogged sandbox: %q", o.Content)
	}
}

func TestDockerConcurrentStarts(t *testing.T) {
	const n = 20
	sandboxes := make([]*Docker, n)
	for i := range sandboxes {
		sandboxes[i] = newDockerRuntime(t, DockerOptions{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errs := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range sandboxes {
		wg.Go(func() {
			if err := d.Start(ctx); err != nil {
				errs[i] = err
				return
			}
			o, err := tryCmd(ctx, d, fmt.Sprintf("echo sandbox-%d", i), 30*time.Second)
			if err == nil && strings.TrimSpace(o.Content) != fmt.Sprintf("sandbox-%d", i) {
				err = fmt.Errorf("echo answered %q", o.Content)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	t.Logf("%d sandboxes started and answered in %s", n, time.Since(start))
	for i, err := range errs {
		if err != nil {
			t.Errorf("sandbox %d: %v", i, err)
		}
	}
	// Remove them in parallel too; the cleanups then find nothing left.
	for _, d := range sandboxes {
		wg.Go(func() {
			if err := d.Delete(context.Background()); err != nil {
				t.Errorf("delete: %v", err)
			}
		})
	}
	wg.Wait()
}
