package actionserver

import (
	"strings"
	"time"
	"unicode"

	"github.com/gohands/gohands/internal/events"
)

// completed builds the observation of a command whose prompt came back and clears the screen.
// suffix replaces the usual completion suffix when not empty.
func (b *BashSession) completed(p *bashProc, command, suffix string) events.Observation {
	p.mu.Lock()
	single := len(p.screen.blocks) == 1 // the command's own starting prompt scrolled away
	raw := p.screen.output(single)
	meta, _ := p.screen.lastMeta()
	p.screen.clear()
	p.mu.Unlock()

	md := bashMetadata(meta)
	if single {
		md.Prefix = bashTruncatedPrefix(bashCountLines(raw))
	}
	_, isKey := bashSpecialKey(command)
	keyName := ""
	if isKey {
		keyName = command
	}
	md.Suffix = bashCompletedSuffix(meta.exitCode, keyName)
	if suffix != "" {
		md.Suffix = suffix
	}
	content := b.commandOutput(command, raw, &md, "")
	b.status, b.prevOutput = bashIdle, ""
	if meta.workingDir != "" {
		wd := meta.workingDir
		b.cwd.Store(&wd)
	}
	return bashObservation(content, command, md)
}

// timedOut builds the observation of a command that is still running; nothing is killed.
func (b *BashSession) timedOut(p *bashProc, command string, status bashStatus, suffix string) events.Observation {
	p.mu.Lock()
	raw := p.screen.output(false)
	p.mu.Unlock()
	md := events.DefaultCmdOutputMetadata()
	md.Suffix = suffix
	content := b.commandOutput(command, raw, &md, bashContinuePrefix)
	b.status = status
	return bashObservation(content, command, md)
}

// shellExited reports a shell that ended (the command was `exit`, or the shell was killed); the next
// Run starts a new one.
func (b *BashSession) shellExited(p *bashProc, command string) events.Observation {
	// Let the reader catch up with the last output.
	select {
	case <-p.readDone:
	case <-time.After(100 * time.Millisecond):
	}
	p.mu.Lock()
	raw := p.screen.output(false)
	p.mu.Unlock()
	md := events.DefaultCmdOutputMetadata()
	b.procMu.Lock()
	closed := b.closed
	b.procMu.Unlock()
	if closed {
		md.Suffix = bashSessionClosedSuffix
	} else {
		md.Suffix = bashShellExitedSuffix(p.exitCode)
	}
	content := b.commandOutput(command, raw, &md, "")
	b.status, b.prevOutput = bashIdle, ""
	p.kill() // the session's leftovers and our goroutines
	return bashObservation(content, command, md)
}

// commandOutput turns the raw pane text into the observation content as OpenHands does: the part
// already shown by the previous (timed-out) observation is cut off, the command's echo is removed,
// and surrounding whitespace is trimmed.
func (b *BashSession) commandOutput(command, raw string, md *events.CmdOutputMetadata, continuePrefix string) string {
	out := raw
	if b.prevOutput != "" {
		out = strings.TrimPrefix(raw, b.prevOutput)
		md.Prefix = continuePrefix
	}
	b.prevOutput = raw
	out = strings.TrimLeftFunc(out, unicode.IsSpace)
	out = strings.TrimPrefix(out, strings.TrimLeftFunc(command, unicode.IsSpace))
	out = strings.TrimLeftFunc(out, unicode.IsSpace)
	return strings.TrimRightFunc(out, unicode.IsSpace)
}

func bashObservation(content, command string, md events.CmdOutputMetadata) *events.CmdOutputObservation {
	return &events.CmdOutputObservation{Content: bashTruncateContent(content), Command: command, Metadata: md}
}

func bashMetadata(m bashPromptMeta) events.CmdOutputMetadata {
	md := events.DefaultCmdOutputMetadata()
	md.ExitCode, md.PID = m.exitCode, m.pid
	md.Username, md.Hostname = &m.username, &m.hostname
	md.WorkingDir, md.PyInterpreterPath = &m.workingDir, &m.pyPath
	return md
}

// bashCountLines counts lines as Python's str.splitlines does for text without \r.
func bashCountLines(s string) int {
	if s == "" {
		return 0
	}
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}
