package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohands/gohands/internal/events"
)

// printer shows a conversation's events in a terminal as they happen, with a spinner while the
// agent is thinking.
type printer struct {
	out   io.Writer
	color bool

	// mu guards the fields below and serialises writes.
	mu        sync.Mutex
	thinking  bool
	spinStop  chan struct{}
	spinDone  chan struct{}
	lastState events.AgentState
}

func newPrinter(out io.Writer, noColor bool) *printer {
	color := !noColor && os.Getenv("NO_COLOR") == ""
	if f, ok := out.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
			color = false // not a terminal: plain text, no spinner
		}
	} else {
		color = false
	}
	return &printer{out: out, color: color}
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiCyan   = "\x1b[36m"
)

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

// handle is the stream subscriber.
func (p *printer) handle(ev *events.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopSpinnerLocked()
	p.print(ev)
	// The agent is thinking after a user message or an observation, until its next action.
	if p.lastState == events.StateRunning && (ev.Observation != nil || (ev.Source == events.SourceUser && ev.Type() == "message")) {
		p.startSpinnerLocked()
	}
}

func (p *printer) print(ev *events.Event) {
	w := p.out
	switch a := ev.Action.(type) {
	case *events.MessageAction:
		who := "agent"
		if ev.Source == events.SourceUser {
			who = "you"
		}
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiBold, who+":"), a.Content)
	case *events.CmdRunAction:
		if a.Thought != "" {
			fmt.Fprintf(w, "%s\n", p.paint(ansiDim, a.Thought))
		}
		if a.IsInput {
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiCyan, "(input)"), a.Command)
		} else {
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiCyan, "$"), a.Command)
		}
		if a.ConfirmationState == events.ConfirmationAwaiting {
			fmt.Fprintln(w, p.paint(ansiYellow, "  (waiting for your confirmation)"))
		}
	case *events.FileEditAction:
		if a.Thought != "" {
			fmt.Fprintf(w, "%s\n", p.paint(ansiDim, a.Thought))
		}
		fmt.Fprintf(w, "%s %s %s\n", p.paint(ansiBlue, "edit"), a.Command, a.Path)
	case *events.FileReadAction:
		if a.Thought != "" {
			fmt.Fprintf(w, "%s\n", p.paint(ansiDim, a.Thought))
		}
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiBlue, "read"), a.Path)
	case *events.FileWriteAction:
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiBlue, "write"), a.Path)
	case *events.AgentThinkAction:
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiDim, "thinking:"), a.Thought)
	case *events.AgentFinishAction:
		text := a.FinalThought
		if text == "" {
			text = ev.Message()
		}
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiGreen+ansiBold, "done:"), text)
	case *events.AgentRejectAction:
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed, "rejected:"), ev.Message())
	}
	switch o := ev.Observation.(type) {
	case *events.CmdOutputObservation:
		if o.Hidden {
			return
		}
		if text := strings.TrimRight(o.Content, "\n"); text != "" {
			fmt.Fprintln(w, indent(text))
		}
		switch code := o.Metadata.ExitCode; {
		case code == -1:
			fmt.Fprintln(w, p.paint(ansiYellow, "  (still running)"))
		case code != 0:
			fmt.Fprintln(w, p.paint(ansiRed, fmt.Sprintf("  (exit code %d)", code)))
		}
	case *events.FileEditObservation:
		if o.Diff != nil && *o.Diff != "" {
			for _, line := range strings.Split(*o.Diff, "\n") {
				code := ""
				switch {
				case strings.HasPrefix(line, "+"):
					code = ansiGreen
				case strings.HasPrefix(line, "-"):
					code = ansiRed
				case strings.HasPrefix(line, "@@"):
					code = ansiCyan
				}
				fmt.Fprintln(w, "  "+p.paint(code, line))
			}
		} else if strings.HasPrefix(o.Content, "ERROR:") {
			fmt.Fprintln(w, p.paint(ansiRed, indent(o.Content)))
		}
	case *events.FileReadObservation:
		if strings.HasPrefix(o.Content, "ERROR:") {
			fmt.Fprintln(w, p.paint(ansiRed, indent(o.Content)))
		}
	case *events.ErrorObservation:
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed, "error:"), o.Content)
	case *events.AgentStateChangedObservation:
		p.lastState = o.AgentState
		switch o.AgentState {
		case events.StateError:
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed+ansiBold, "agent error:"), o.Reason)
		case events.StateAwaitingUserConfirmation, events.StatePaused, events.StateStopped:
			fmt.Fprintln(w, p.paint(ansiDim, "["+string(o.AgentState)+"]"))
		}
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// The spinner writes only to terminals.
func (p *printer) startSpinnerLocked() {
	if !p.color || p.spinStop != nil {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	p.spinStop, p.spinDone = stop, done
	go func() {
		defer close(done)
		frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				fmt.Fprint(p.out, "\r\x1b[K")
				return
			case <-t.C:
				fmt.Fprintf(p.out, "\r%s %s", frames[i%len(frames)], p.paint(ansiDim, "thinking…"))
			}
		}
	}()
}

func (p *printer) stopSpinnerLocked() {
	if p.spinStop == nil {
		return
	}
	close(p.spinStop)
	<-p.spinDone
	p.spinStop, p.spinDone = nil, nil
}

// close stops the spinner.
func (p *printer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopSpinnerLocked()
}
