package controller

import (
	"reflect"
	"slices"
	"strings"

	"github.com/gohands/gohands/internal/events"
)

// Loop names a way an agent can be stuck, after OpenHands' StuckDetector
// (openhands/controller/stuck.py): the same five patterns and the same equality rules.
type Loop int

// The patterns, in the order they are checked.
const (
	NotStuck Loop = iota
	// RepeatedActionObservation: the last 4 actions are equal and so are the last 4 observations.
	RepeatedActionObservation
	// RepeatedActionError: the last 3 actions are equal and the last 3 observations are errors
	// (or the same Python syntax error).
	RepeatedActionError
	// Monologue: the last 3 agent messages are equal, with no observation between them.
	Monologue
	// AlternatingActions: the last 6 actions and observations alternate A, B, A, B, A, B.
	AlternatingActions
	// CondensationLoop: of at least 10 condensation observations, two of the last 10 follow each
	// other directly.
	CondensationLoop
)

// String says what the agent kept doing, for the error the user sees.
func (l Loop) String() string {
	switch l {
	case RepeatedActionObservation:
		return "it repeated the same action with the same result 4 times"
	case RepeatedActionError:
		return "it repeated the same action, which failed with an error, 3 times"
	case Monologue:
		return "it sent the same message 3 times without doing anything else"
	case AlternatingActions:
		return "it alternated between the same two actions with the same results for 6 steps"
	case CondensationLoop:
		return "the history was condensed again and again without the agent doing anything else"
	}
	return "not stuck"
}

// Stuck reports whether history ends in a loop. A user at a browser can steer the agent, so
// there only the events after the user's last message count (headless false); a headless run
// looks at the whole history. User messages and null events are left out.
func Stuck(history []*events.Event, headless bool) Loop {
	d := newDetector(headless)
	for _, ev := range history {
		d.add(ev)
	}
	return d.check()
}

// detector is Stuck kept up to date one event at a time, so that the controller's check before
// every step costs the same however long the conversation is. It remembers, for the window the
// patterns look at, what they need: the last actions, observations, agent messages and
// condensations.
type detector struct {
	headless bool

	n                   int     // events in the window (user messages and null events left out)
	acts, obs           recent  // the last 6 actions and observations
	msgs                recent  // the last 3 agent messages
	msgGaps             [2]bool // an observation came between msgs[0] and [1], [1] and [2]
	obsSince            bool    // an observation came after the last agent message
	condense            recent  // the last 10 condensation observations
	adjacent            []bool  // per condense entry: it came right after the previous one
	prevWasCondensation bool
}

func newDetector(headless bool) *detector {
	return &detector{
		headless: headless,
		acts:     recent{max: 6},
		obs:      recent{max: 6},
		msgs:     recent{max: 3},
		condense: recent{max: 10},
	}
}

// add takes the next event of the history.
func (d *detector) add(ev *events.Event) {
	isCondense := false
	if ev.Action != nil {
		switch ev.Action.(type) {
		case *events.NullAction:
			return
		case *events.MessageAction:
			switch ev.Source {
			case events.SourceUser:
				if !d.headless {
					*d = *newDetector(false) // the window starts after the user's last message
				}
				return
			case events.SourceAgent:
				if d.msgs.len() > 0 {
					d.msgGaps[0], d.msgGaps[1] = d.msgGaps[1], d.obsSince
				}
				d.msgs.push(ev)
				d.obsSince = false
			}
		}
		d.acts.push(ev)
	} else {
		switch ev.Observation.(type) {
		case *events.NullObservation:
			return
		case *events.AgentCondensationObservation:
			isCondense = true
		}
		d.obs.push(ev)
		d.obsSince = true
	}
	d.n++
	if isCondense {
		if len(d.adjacent) == d.condense.max {
			copy(d.adjacent, d.adjacent[1:])
			d.adjacent = d.adjacent[:len(d.adjacent)-1]
		}
		d.condense.push(ev)
		d.adjacent = append(d.adjacent, d.prevWasCondensation)
	}
	d.prevWasCondensation = isCondense
}

// check evaluates the patterns in OpenHands' order.
func (d *detector) check() Loop {
	if d.n < 3 {
		return NotStuck
	}
	acts, obs := d.acts.newestFirst(), d.obs.newestFirst()
	if len(acts) >= 4 && len(obs) >= 4 && allEqual(acts[:4]) && allEqual(obs[:4]) {
		return RepeatedActionObservation
	}
	if len(acts) >= 3 && len(obs) >= 3 && allEqual(acts[:3]) && (allErrors(obs[:3]) || sameSyntaxError(obs[:3])) {
		return RepeatedActionError
	}
	if m := d.msgs.newestFirst(); len(m) == 3 && !d.msgGaps[0] && !d.msgGaps[1] && same(m[0], m[1]) && same(m[0], m[2]) {
		return Monologue
	}
	if d.n < 6 {
		return NotStuck
	}
	if len(acts) == 6 && len(obs) == 6 && alternates(acts) && alternates(obs) {
		return AlternatingActions
	}
	// Of the last 10 condensations, one followed the one before it directly (the oldest one's
	// flag is about a condensation outside the 10).
	if d.n >= 10 && d.condense.len() == 10 && slices.Contains(d.adjacent[1:], true) {
		return CondensationLoop
	}
	return NotStuck
}

// recent keeps the last max events added.
type recent struct {
	max int
	evs []*events.Event // oldest first
}

func (r *recent) len() int { return len(r.evs) }

func (r *recent) push(ev *events.Event) {
	if len(r.evs) == r.max {
		copy(r.evs, r.evs[1:])
		r.evs[len(r.evs)-1] = ev
		return
	}
	r.evs = append(r.evs, ev)
}

func (r *recent) newestFirst() []*events.Event {
	out := make([]*events.Event, len(r.evs))
	for i, ev := range r.evs {
		out[len(r.evs)-1-i] = ev
	}
	return out
}

func allEqual(evs []*events.Event) bool {
	for _, ev := range evs[1:] {
		if !equalNoPID(evs[0], ev) {
			return false
		}
	}
	return true
}

// alternates reports whether six events (newest first) go A, B, A, B, A, B.
func alternates(evs []*events.Event) bool {
	return equalNoPID(evs[0], evs[2]) && equalNoPID(evs[0], evs[4]) &&
		equalNoPID(evs[1], evs[3]) && equalNoPID(evs[1], evs[5])
}

func allErrors(evs []*events.Event) bool {
	for _, ev := range evs {
		if _, ok := ev.Observation.(*events.ErrorObservation); !ok {
			return false
		}
	}
	return true
}

// equalNoPID is OpenHands' _eq_no_pid: events are equal when they are of the same type with the
// same fields (ids, timestamps, sources, causes and tool-call metadata aside), except that two
// shell outputs are equal when the command and exit code are (the pid and the output may
// differ), and two Python cells that edit with edit_file_by_replace compare their first 3 lines.
func equalNoPID(a, b *events.Event) bool {
	if x, ok := a.Action.(*events.IPythonRunCellAction); ok {
		if y, ok := b.Action.(*events.IPythonRunCellAction); ok {
			const edit = "edit_file_by_replace("
			if strings.Contains(x.Code, edit) && strings.Contains(y.Code, edit) {
				lx, ly := strings.Split(x.Code, "\n"), strings.Split(y.Code, "\n")
				return len(lx) > 2 && slices.Equal(lx[:3], ly[:min(3, len(ly))])
			}
		}
	}
	if x, ok := a.Observation.(*events.CmdOutputObservation); ok {
		if y, ok := b.Observation.(*events.CmdOutputObservation); ok {
			return x.Command == y.Command && x.Metadata.ExitCode == y.Metadata.ExitCode
		}
	}
	return same(a, b)
}

// same is Python dataclass equality: same class, equal fields (content included).
func same(a, b *events.Event) bool {
	if a.Action != nil || b.Action != nil {
		return reflect.DeepEqual(a.Action, b.Action)
	}
	return reflect.DeepEqual(a.Observation, b.Observation)
}

// Jupyter's last two lines of every cell output, and the syntax errors a looping agent repeats.
const (
	jupyterCwd         = "[Jupyter current working directory:"
	jupyterInterpreter = "[Jupyter Python interpreter:"
	unterminatedString = "SyntaxError: unterminated string literal (detected at line"
)

var invalidSyntaxErrors = []string{
	"SyntaxError: invalid syntax. Perhaps you forgot a comma?",
	"SyntaxError: incomplete input",
}

// sameSyntaxError reports whether three Python cell outputs end in the same syntax error.
func sameSyntaxError(evs []*events.Event) bool {
	outs := make([]string, len(evs))
	for i, ev := range evs {
		o, ok := ev.Observation.(*events.IPythonRunCellObservation)
		if !ok {
			return false
		}
		outs[i] = o.Content
	}
	if sameLineError(outs, unterminatedString) {
		return true
	}
	for _, msg := range invalidSyntaxErrors {
		if sameInvalidSyntax(outs, msg) {
			return true
		}
	}
	return false
}

func outputLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// sameLineError: every output ends with Jupyter's two lines, preceded by one identical line that
// holds msg.
func sameLineError(outs []string, msg string) bool {
	var errLines []string
	for _, out := range outs {
		lines := outputLines(out)
		if len(lines) < 3 {
			return false
		}
		last := lines[len(lines)-3:]
		if !strings.HasPrefix(last[1], jupyterCwd) || !strings.HasPrefix(last[2], jupyterInterpreter) {
			return false
		}
		if strings.Contains(last[0], msg) {
			errLines = append(errLines, last[0])
		}
	}
	return len(errLines) == len(outs) && allSame(errLines)
}

// sameInvalidSyntax: every output is a real syntax error report (at least 6 lines, starting
// "Cell In[1], line") with the same first line, ending with Jupyter's two lines preceded by the
// same line holding msg.
func sameInvalidSyntax(outs []string, msg string) bool {
	var firstLines, errLines []string
	for _, out := range outs {
		lines := outputLines(out)
		if len(lines) < 6 {
			return false
		}
		first := strings.TrimSpace(lines[0])
		if !strings.HasPrefix(first, "Cell In[1], line") {
			return false
		}
		firstLines = append(firstLines, first)
		k := len(lines)
		if strings.HasPrefix(lines[k-1], jupyterInterpreter) && strings.HasPrefix(lines[k-2], jupyterCwd) &&
			strings.Contains(lines[k-3], msg) {
			errLines = append(errLines, lines[k-3])
		}
	}
	return allSame(firstLines) && len(errLines) == len(outs) && allSame(errLines)
}

func allSame(ss []string) bool {
	if len(ss) == 0 {
		return true
	}
	for _, s := range ss[1:] {
		if s != ss[0] {
			return false
		}
	}
	return true
}
