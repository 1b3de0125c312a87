package controller

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/events"
)

// History builders for the stuck detector's tables.

func hAct(a events.Action) *events.Event {
	ev := events.NewAction(a)
	ev.Source = events.SourceAgent
	return ev
}

func hUser(text string) *events.Event {
	ev := events.NewAction(&events.MessageAction{Content: text})
	ev.Source = events.SourceUser
	return ev
}

func hMsg(text string) *events.Event { return hAct(&events.MessageAction{Content: text}) }

func hRun(cmd string) *events.Event { return hAct(run(cmd)) }

func hOut(cmd, output string, exit int) *events.Event {
	md := events.DefaultCmdOutputMetadata()
	md.ExitCode, md.PID = exit, len(output) // the pid differs between runs; it must not matter
	ev := events.NewObservation(&events.CmdOutputObservation{Command: cmd, Metadata: md}, output)
	ev.Source = events.SourceAgent
	return ev
}

func hErr(text string) *events.Event {
	ev := events.NewObservation(&events.ErrorObservation{}, text)
	ev.Source = events.SourceAgent
	return ev
}

func hCell(code string) *events.Event {
	return hAct(&events.IPythonRunCellAction{Code: code, IncludeExtra: true, ConfirmationState: events.ConfirmationConfirmed})
}

func hCellOut(output string) *events.Event {
	ev := events.NewObservation(&events.IPythonRunCellObservation{Code: "x"}, output)
	ev.Source = events.SourceAgent
	return ev
}

func hCondense() *events.Event {
	return events.NewObservation(&events.AgentCondensationObservation{}, "summary")
}

func hNull() *events.Event { return events.NewObservation(&events.NullObservation{}, "") }

// pairs repeats an (action, observation) pair n times.
func pairs(n int, act func(i int) *events.Event, obs func(i int) *events.Event) []*events.Event {
	var out []*events.Event
	for i := range n {
		out = append(out, act(i), obs(i))
	}
	return out
}

func cat(parts ...[]*events.Event) []*events.Event {
	var out []*events.Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(evs ...*events.Event) []*events.Event { return evs }

const (
	jupyterTail  = "\n[Jupyter current working directory: /workspace]\n[Jupyter Python interpreter: /usr/bin/python]"
	unterminated = "Cell In[1], line 1\n    print('hi)\n          ^\n" +
		"SyntaxError: unterminated string literal (detected at line 1) (1434551012.py, line 1)" + jupyterTail
	missingComma = "Cell In[1], line 2\n    x = [1 2]\n         ^\nsome context\nmore context\n" +
		"SyntaxError: invalid syntax. Perhaps you forgot a comma?" + jupyterTail
)

func TestStuck(t *testing.T) {
	same := func(int) *events.Event { return hRun("ls") }
	sameOut := func(int) *events.Event { return hOut("ls", "a b c", 0) }
	for _, tc := range []struct {
		name     string
		history  []*events.Event
		headless bool
		want     Loop
	}{
		{"empty", nil, false, NotStuck},
		{"too short", pairs(1, same, sameOut), false, NotStuck},

		// 1. the same action with the same observation, 4 times
		{"repeated pair x4", cat(one(hUser("go")), pairs(4, same, sameOut)), false, RepeatedActionObservation},
		{"repeated pair x3", cat(one(hUser("go")), pairs(3, same, sameOut)), false, NotStuck},
		{"run output differs, same command and exit code", pairs(4, same,
			func(i int) *events.Event { return hOut("ls", strings.Repeat("x", i+1), 0) }), false, RepeatedActionObservation},
		{"run exit code differs", pairs(4, same,
			func(i int) *events.Event { return hOut("ls", "a", i%2) }), false, NotStuck},
		{"actions differ by thought", pairs(4, func(i int) *events.Event {
			return hAct(&events.CmdRunAction{Command: "ls", Thought: strings.Repeat("t", i)})
		}, sameOut), false, NotStuck},
		{"null events are ignored", cat(pairs(2, same, sameOut), one(hNull()), pairs(2, same, sameOut)), false, RepeatedActionObservation},
		{"a user message in between resets the web window",
			cat(pairs(2, same, sameOut), one(hUser("keep going")), pairs(2, same, sameOut)), false, NotStuck},
		{"headless looks past user messages",
			cat(pairs(2, same, sameOut), one(hUser("keep going")), pairs(2, same, sameOut)), true, RepeatedActionObservation},

		// 2. the same action, 3 errors
		{"repeated action with errors", pairs(3, same, func(int) *events.Event { return hErr("bash: ls: broken") }),
			false, RepeatedActionError},
		{"errors with different actions", pairs(3, func(i int) *events.Event { return hRun(strings.Repeat("l", i+1)) },
			func(int) *events.Event { return hErr("nope") }), false, NotStuck},
		{"errors may differ", pairs(3, same, func(i int) *events.Event { return hErr(strings.Repeat("e", i+1)) }),
			false, RepeatedActionError},
		{"same unterminated string error", pairs(3, func(int) *events.Event { return hCell("print('hi)") },
			func(int) *events.Event { return hCellOut(unterminated) }), false, RepeatedActionError},
		{"same missing comma error", pairs(3, func(int) *events.Event { return hCell("x = [1 2]") },
			func(int) *events.Event { return hCellOut(missingComma) }), false, RepeatedActionError},
		{"python output without the error", pairs(3, func(int) *events.Event { return hCell("print(1)") },
			func(int) *events.Event { return hCellOut("1" + jupyterTail) }), false, NotStuck},
		{"edit_file_by_replace compares 3 lines", cat(
			one(hCell("edit_file_by_replace(\n'a',\n'b',\nfirst)"), hErr("e")),
			one(hCell("edit_file_by_replace(\n'a',\n'b',\nsecond)"), hErr("e")),
			one(hCell("edit_file_by_replace(\n'a',\n'b',\nthird)"), hErr("e"))), false, RepeatedActionError},
		{"edit_file_by_replace needs 3 lines", cat(
			one(hCell("edit_file_by_replace('a', 1)"), hErr("e")),
			one(hCell("edit_file_by_replace('a', 2)"), hErr("e")),
			one(hCell("edit_file_by_replace('a', 3)"), hErr("e"))), false, NotStuck},

		// 3. monologue
		{"monologue", one(hUser("hi"), hMsg("I will help."), hMsg("I will help."), hMsg("I will help.")), false, Monologue},
		{"monologue broken by an observation", one(hMsg("I will help."), hMsg("I will help."), hOut("ls", "", 0),
			hMsg("I will help.")), false, NotStuck},
		{"messages differ", one(hMsg("a"), hMsg("b"), hMsg("a")), false, NotStuck},
		{"user messages are not monologue", one(hUser("a"), hUser("a"), hUser("a")), true, NotStuck},

		// 4. alternating pairs
		{"alternating A B", pairs(6, func(i int) *events.Event { return hRun([]string{"ls", "pwd"}[i%2]) },
			func(i int) *events.Event { return hOut([]string{"ls", "pwd"}[i%2], "x", 0) }), false, AlternatingActions},
		{"alternating with one odd step", pairs(6, func(i int) *events.Event {
			if i == 5 {
				return hRun("whoami")
			}
			return hRun([]string{"ls", "pwd"}[i%2])
		}, func(i int) *events.Event { return hOut([]string{"ls", "pwd"}[i%2], "x", 0) }), false, NotStuck},
		{"alternating for 4 steps only", pairs(4, func(i int) *events.Event { return hRun([]string{"ls", "pwd"}[i%2]) },
			func(i int) *events.Event { return hOut([]string{"ls", "pwd"}[i%2], "x", 0) }), false, NotStuck},

		// 5. condensation loop
		{"condensations back to back", cat(one(hRun("ls"), hOut("ls", "", 0)),
			func() []*events.Event {
				var out []*events.Event
				for range 10 {
					out = append(out, hCondense())
				}
				return out
			}()), false, CondensationLoop},
		{"condensations with work between", func() []*events.Event {
			var out []*events.Event
			for i := range 10 {
				out = append(out, hCondense(), hRun(strings.Repeat("l", i+1)), hOut("x", "", i))
			}
			return out
		}(), false, NotStuck},
		{"nine condensations", func() []*events.Event {
			out := []*events.Event{hRun("ls"), hOut("ls", "", 0)}
			for range 9 {
				out = append(out, hCondense())
			}
			return out
		}(), false, NotStuck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Stuck(tc.history, tc.headless); got != tc.want {
				t.Fatalf("Stuck = %v (%d), want %v (%d)", got, got, tc.want, tc.want)
			}
		})
	}
}

// BenchmarkStuck is the controller's per-step cost of stuck detection: two events added (an
// action and its observation) and a check, in a long working conversation.
func BenchmarkStuck(b *testing.B) {
	var history []*events.Event
	for i := range 1000 {
		cmd := "make step" + strings.Repeat("x", i%7)
		history = append(history, hRun(cmd), hOut(cmd, "ok", i%3))
	}
	for _, headless := range []bool{false, true} {
		name := "web"
		if headless {
			name = "headless"
		}
		b.Run(name, func(b *testing.B) {
			d := newDetector(headless)
			d.add(hUser("build it"))
			i := 0
			for b.Loop() {
				d.add(history[i%len(history)])
				d.add(history[(i+1)%len(history)])
				i += 2
				if d.check() != NotStuck {
					b.Fatal("stuck")
				}
			}
		})
	}
}

// stuckReference is OpenHands' is_stuck written the way stuck.py is (filter the window, then look
// back), to check the incremental detector against.
func stuckReference(history []*events.Event, headless bool) Loop {
	window := history
	if !headless {
		for i := len(history) - 1; i >= 0; i-- {
			if _, ok := history[i].Action.(*events.MessageAction); ok && history[i].Source == events.SourceUser {
				window = history[i+1:]
				break
			}
		}
	}
	var filtered []*events.Event
	for _, ev := range window {
		_, msg := ev.Action.(*events.MessageAction)
		_, na := ev.Action.(*events.NullAction)
		_, no := ev.Observation.(*events.NullObservation)
		if (msg && ev.Source == events.SourceUser) || na || no {
			continue
		}
		filtered = append(filtered, ev)
	}
	if len(filtered) < 3 {
		return NotStuck
	}
	lastN := func(n int) (acts, obs []*events.Event) {
		for i := len(filtered) - 1; i >= 0; i-- {
			ev := filtered[i]
			if ev.Action != nil && len(acts) < n {
				acts = append(acts, ev)
			} else if ev.Observation != nil && len(obs) < n {
				obs = append(obs, ev)
			}
		}
		return acts, obs
	}
	acts, obs := lastN(4)
	if len(acts) == 4 && len(obs) == 4 && allEqual(acts) && allEqual(obs) {
		return RepeatedActionObservation
	}
	if len(acts) >= 3 && len(obs) >= 3 && allEqual(acts[:3]) && (allErrors(obs[:3]) || sameSyntaxError(obs[:3])) {
		return RepeatedActionError
	}
	var msgs []int
	for i, ev := range filtered {
		if _, ok := ev.Action.(*events.MessageAction); ok && ev.Source == events.SourceAgent {
			msgs = append(msgs, i)
		}
	}
	if len(msgs) >= 3 {
		last := msgs[len(msgs)-3:]
		if same(filtered[last[0]], filtered[last[1]]) && same(filtered[last[0]], filtered[last[2]]) {
			between := false
			for _, ev := range filtered[last[0]+1 : last[2]] {
				if ev.Observation != nil {
					between = true
				}
			}
			if !between {
				return Monologue
			}
		}
	}
	if len(filtered) < 6 {
		return NotStuck
	}
	acts, obs = lastN(6)
	if len(acts) == 6 && len(obs) == 6 && alternates(acts) && alternates(obs) {
		return AlternatingActions
	}
	if len(filtered) >= 10 {
		var cond []int
		for i, ev := range filtered {
			if _, ok := ev.Observation.(*events.AgentCondensationObservation); ok {
				cond = append(cond, i)
			}
		}
		if len(cond) >= 10 {
			last := cond[len(cond)-10:]
			for i := range len(last) - 1 {
				if last[i+1] == last[i]+1 {
					return CondensationLoop
				}
			}
		}
	}
	return NotStuck
}

// The incremental detector agrees with the reference on every prefix of random histories made of
// a few repeated pieces (so that loops are common).
func TestStuckMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []func() *events.Event{
		func() *events.Event { return hRun("ls") },
		func() *events.Event { return hRun("pwd") },
		func() *events.Event { return hOut("ls", "a", 0) },
		func() *events.Event { return hOut("pwd", "/", 0) },
		func() *events.Event { return hErr("boom") },
		func() *events.Event { return hMsg("thinking") },
		func() *events.Event { return hMsg("other") },
		func() *events.Event { return hUser("hey") },
		func() *events.Event { return hCondense() },
		hNull,
	}
	found := map[Loop]int{}
	for range 500 {
		var history []*events.Event
		web, headless := newDetector(false), newDetector(true)
		var next []*events.Event
		for range 60 {
			if len(next) == 0 {
				switch k := rng.IntN(len(pieces) + 2); {
				case k < len(pieces):
					next = []*events.Event{pieces[k]()}
				case k == len(pieces):
					next = []*events.Event{hRun("ls"), hOut("ls", "a", 0)}
				default:
					next = []*events.Event{hRun("pwd"), hOut("pwd", "/", 0)}
				}
			}
			ev := next[0]
			next = next[1:]
			history = append(history, ev)
			web.add(ev)
			headless.add(ev)
			for _, tc := range []struct {
				d        *detector
				headless bool
			}{{web, false}, {headless, true}} {
				want := stuckReference(history, tc.headless)
				if got := tc.d.check(); got != want {
					var b strings.Builder
					for _, ev := range history {
						b.WriteString(summary(ev) + "\n")
					}
					t.Fatalf("headless %v: detector %v, reference %v, history:\n%s", tc.headless, got, want, b.String())
				}
				found[want]++
			}
		}
	}
	for _, l := range []Loop{RepeatedActionObservation, RepeatedActionError, Monologue, AlternatingActions, CondensationLoop} {
		if found[l] == 0 {
			t.Errorf("no random history showed %v; the comparison does not cover it", l)
		}
	}
}
