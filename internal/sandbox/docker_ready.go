package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// readyPoll is the interval between readiness probes. Probing a socket that does not exist yet
// fails at once, so a short interval costs little and keeps start latency close to the engine's.
const readyPoll = 5 * time.Millisecond

// logLinesOnFailure is how many of the container's last log lines a readiness error carries.
const logLinesOnFailure = 20

var errContainerExited = errors.New("the container stopped")

// waitReady waits until the action server answers through c, the container stops, or
// ReadyTimeout passes; on success c becomes the sandbox's client. A failure carries the
// container's state and last log lines.
func (d *Docker) waitReady(ctx context.Context, id string, c *Client) error {
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, d.opts.ReadyTimeout)
	defer cancel()
	wctx, stopWatch := context.WithCancelCause(rctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		// Either channel always delivers once wctx ends, so this goroutine never outlives it.
		w := d.engine.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-w.Result:
			stopWatch(errContainerExited)
		case <-w.Error:
		}
	}()
	err := c.WaitReady(wctx, readyPoll)
	exited := errors.Is(context.Cause(wctx), errContainerExited)
	stopWatch(nil)
	<-watched
	if err == nil {
		d.mu.Lock()
		d.client = c
		d.mu.Unlock()
		d.log.Debug("sandbox ready", "elapsed", time.Since(start))
		return nil
	}
	c.CloseIdle()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return d.readyError(ctx, id, exited, err)
}

// readyError explains why the action server did not answer: the container's state and its last
// log lines.
func (d *Docker) readyError(ctx context.Context, id string, exited bool, waitErr error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	what := fmt.Sprintf("the action server did not answer within %s: %v", d.opts.ReadyTimeout, waitErr)
	if info, err := d.engine.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && info.Container.State != nil {
		s := info.Container.State
		switch {
		case s.OOMKilled:
			what = fmt.Sprintf("the container was killed for lack of memory (exit code %d) before the action server answered", s.ExitCode)
		case !s.Running:
			what = fmt.Sprintf("the container exited with code %d before the action server answered", s.ExitCode)
		case exited:
			what = "the container stopped before the action server answered"
		}
		if s.Error != "" {
			what += " (engine: " + s.Error + ")"
		}
	}
	return fmt.Errorf("%s\nlast log lines of %s:\n%s", what, d.name, d.lastLogs(ctx, id, logLinesOnFailure))
}

// lastLogs returns the container's last n log lines (stdout and stderr interleaved), indented.
func (d *Docker) lastLogs(ctx context.Context, id string, n int) string {
	rc, err := d.engine.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n),
	})
	if err != nil {
		return "  (logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil && buf.Len() == 0 {
		return "  (logs unavailable: " + err.Error() + ")"
	}
	text := strings.TrimRight(buf.String(), "\n")
	if text == "" {
		return "  (no output)"
	}
	return "  " + strings.ReplaceAll(text, "\n", "\n  ")
}
