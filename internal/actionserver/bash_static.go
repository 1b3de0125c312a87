package actionserver

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// runStatic runs a command outside the session (OpenHands' is_static, used for git helpers): a fresh
// `shell -c` in a.Cwd (default: the initial working directory) that shares nothing with the session.
// OpenHands opens a whole new terminal session for it and never closes it; here the process ends
// with the call: the hard timeout (or ctx) kills its process group, and so does its end (background
// children do not outlive it). Its stdin is empty, so nothing can wait for input.
func (b *BashSession) runStatic(ctx context.Context, a *events.CmdRunAction, timeout time.Duration) events.Observation {
	b.procMu.Lock()
	closed := b.closed
	b.procMu.Unlock()
	if closed {
		return &events.ErrorObservation{Content: "ERROR: " + errBashClosed.Error()}
	}
	command := strings.TrimSpace(a.Command)
	if command == "" {
		return bashObservation(bashNoRunningToRetrieve, "", events.DefaultCmdOutputMetadata())
	}
	if cmds := bashSplitCommands(command); len(cmds) > 1 {
		return &events.ErrorObservation{Content: bashMultipleCommandsError(cmds)}
	}
	dir := b.cfg.dir
	if a.Cwd != nil && *a.Cwd != "" {
		dir = *a.Cwd
	}

	var out bashHeadTail
	cmd := exec.Command(b.cfg.base[0], append(b.cfg.base[1:], "-c", command)...)
	cmd.Dir = dir
	cmd.Env = b.cfg.env
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second // a background child holding the output open must not hang us
	if err := cmd.Start(); err != nil {
		return &events.ErrorObservation{Content: "ERROR: " + err.Error()}
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	var err error
	killed := ""
	select {
	case err = <-done:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	case <-expired:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-done
		killed = "timeout"
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-done
		killed = "cancelled"
	}

	code := -1
	var ee *exec.ExitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		code = cmd.ProcessState.ExitCode()
	}

	screen := bashScreen{unbounded: true}
	screen.write(out.bytes())
	raw := screen.output(false)

	py, _ := exec.LookPath("python")
	md := bashMetadata(bashPromptMeta{exitCode: code, pid: -1, username: b.cfg.username,
		hostname: b.cfg.hostname, workingDir: dir, pyPath: py})
	switch killed {
	case "timeout":
		md.Suffix = bashKilledSuffix(timeout, code)
	case "cancelled":
		md.ExitCode = -1
		md.Suffix = bashStaticCancelledSuffix
	default:
		md.Suffix = bashCompletedSuffix(code, "")
	}
	content := strings.TrimSpace(raw)
	return bashObservation(content, command, md)
}

// bashHeadTail keeps the first and the last bashHeadTailSize bytes written to it: enough for the
// head and tail an observation keeps, in bounded memory.
type bashHeadTail struct {
	head  []byte
	tail  []byte // ring once full
	next  int    // ring write position
	total int64
}

const bashHeadTailSize = 64 << 10

func (h *bashHeadTail) Write(p []byte) (int, error) {
	n := len(p)
	h.total += int64(n)
	if room := bashHeadTailSize - len(h.head); room > 0 {
		k := min(room, len(p))
		h.head = append(h.head, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		if len(h.tail) < bashHeadTailSize {
			k := min(bashHeadTailSize-len(h.tail), len(p))
			h.tail = append(h.tail, p[:k]...)
			p = p[k:]
			continue
		}
		k := copy(h.tail[h.next:], p)
		h.next = (h.next + k) % bashHeadTailSize
		p = p[k:]
	}
	return n, nil
}

func (h *bashHeadTail) bytes() []byte {
	out := append([]byte(nil), h.head...)
	out = append(out, h.tail[h.next:]...)
	return append(out, h.tail[:h.next]...)
}
