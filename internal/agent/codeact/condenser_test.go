package codeact

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// turns builds a history of a system event, a task and n command turns (action + result).
func turns(t *testing.T, n int, outputLen int) *history {
	h := &history{t: t}
	h.system("S")
	h.user("Task")
	for i := range n {
		r := response(fmt.Sprintf("resp-%d", i), "", call(fmt.Sprintf("c%d", i), "execute_bash", fmt.Sprintf(`{"command": "echo %d"}`, i)))
		a := h.action(&events.CmdRunAction{Command: fmt.Sprintf("echo %d", i)}, r, 0)
		out := fmt.Sprintf("%d %s", i, strings.Repeat("x", outputLen))
		h.result(a, runOutput(a.Action.(*events.CmdRunAction).Command, out, 0), out)
	}
	return h
}

func ids(evs []*events.Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if isSummary(ev) {
			b.WriteString("S")
		} else {
			fmt.Fprint(&b, ev.ID)
		}
	}
	return b.String()
}

func TestNewView(t *testing.T) {
	h := turns(t, 4, 1) // ids 0..9
	list := h.add(events.NewAction(&events.CondensationAction{ForgottenEventIDs: []int64{2, 3}}), events.SourceAgent)
	if v := NewView(h.evs); ids(v.Events) != "0 1 4 5 6 7 8 9" || v.UnhandledCondensationRequest {
		t.Errorf("list form: %s, request %v", ids(v.Events), v.UnhandledCondensationRequest)
	}
	_ = list
	h.add(events.NewAction(&events.CondensationRequestAction{}), events.SourceAgent)
	if v := NewView(h.evs); ids(v.Events) != "0 1 4 5 6 7 8 9" || !v.UnhandledCondensationRequest {
		t.Errorf("request: %s, request %v", ids(v.Events), v.UnhandledCondensationRequest)
	}
	summary := "what happened"
	h.add(events.NewAction(&events.CondensationAction{ForgottenEventsStartID: ptr[int64](4), ForgottenEventsEndID: ptr[int64](7),
		Summary: &summary, SummaryOffset: ptr(2)}), events.SourceAgent)
	v := NewView(h.evs)
	if ids(v.Events) != "0 1 S 8 9" || v.UnhandledCondensationRequest {
		t.Errorf("range form with summary: %s, request %v", ids(v.Events), v.UnhandledCondensationRequest)
	}
	if v.Events[2].Content() != summary || v.Events[2].ID != -1 {
		t.Errorf("summary event %+v", v.Events[2])
	}
	// A later condensation without summary keeps the earlier summary in place.
	h.add(events.NewAction(&events.CondensationAction{ForgottenEventIDs: []int64{8}}), events.SourceAgent)
	if v := NewView(h.evs); ids(v.Events) != "0 1 S 9" {
		t.Errorf("summary after a later condensation: %s", ids(v.Events))
	}
}

func TestRecentCondenser(t *testing.T) {
	h := turns(t, 10, 1) // 22 events
	c := NewCondenser(config.Condenser{Type: config.CondenserRecent, KeepFirst: 2, MaxEvents: 6}, nil, nil)
	v, act, err := c.Condense(context.Background(), NewView(h.evs))
	if err != nil || act != nil {
		t.Fatal(err, act)
	}
	if ids(v.Events) != "0 1 18 19 20 21" {
		t.Errorf("recent: %s", ids(v.Events))
	}
	short := turns(t, 1, 1)
	if v, _, _ := c.Condense(context.Background(), NewView(short.evs)); ids(v.Events) != "0 1 2 3" {
		t.Errorf("short history changed: %s", ids(v.Events))
	}
}

func TestAmortizedCondenser(t *testing.T) {
	h := turns(t, 10, 1) // 22 events
	c := NewCondenser(config.Condenser{Type: config.CondenserAmortized, KeepFirst: 2, MaxSize: 12}, nil, nil)
	_, act, err := c.Condense(context.Background(), NewView(h.evs))
	if err != nil || act == nil {
		t.Fatal(err, act)
	}
	// keep 2 + (12/2 - 2) = 6 events: forget 2..17.
	h.add(events.NewAction(act), events.SourceAgent)
	if v := NewView(h.evs); ids(v.Events) != "0 1 18 19 20 21" {
		t.Errorf("after amortized forgetting: %s (forgot %v)", ids(v.Events), act.ForgottenEventIDs)
	}
}

func TestMaskingCondenser(t *testing.T) {
	h := turns(t, 3, 1) // 8 events
	c := NewCondenser(config.Condenser{Type: config.CondenserObservationMasking, AttentionWindow: 2}, nil, nil)
	v, _, _ := c.Condense(context.Background(), NewView(h.evs))
	var masked []int64
	for _, ev := range v.Events {
		if ev.Content() == maskedContent {
			masked = append(masked, ev.ID)
			if ev.ToolCallMetadata == nil {
				t.Errorf("masked event %d lost its tool metadata", ev.ID)
			}
		}
	}
	if fmt.Sprint(masked) != "[3 5]" {
		t.Errorf("masked %v, want [3 5]", masked)
	}
	if h.evs[3].Content() == maskedContent {
		t.Error("masking changed the history's own event")
	}
}

func TestWindowCondensation(t *testing.T) {
	h := &history{t: t}
	h.system("S")
	first := h.user("Task")
	ra := h.add(events.NewAction(&events.RecallAction{RecallType: events.RecallWorkspaceContext, Query: "Task"}), events.SourceUser)
	ro := h.add(events.NewObservation(&events.RecallObservation{RecallType: events.RecallWorkspaceContext}, "Added workspace context"), events.SourceEnvironment)
	ro.Cause = &ra.ID
	_ = first
	for i := range 5 {
		r := response(fmt.Sprint(i), "", call(fmt.Sprint(i), "execute_bash", `{"command": "x"}`))
		a := h.action(&events.CmdRunAction{Command: "x"}, r, 0)
		h.result(a, runOutput("x", "y", 0), "y")
	}
	// 14 events, 4 essential: keep the newest 5, but not starting on an observation: 10..13.
	act := windowCondensation(h.evs)
	if act == nil || act.ForgottenEventsStartID == nil || *act.ForgottenEventsStartID != 4 || *act.ForgottenEventsEndID != 9 {
		t.Fatalf("condensation %s", mustJSON(t, act))
	}
	h.add(events.NewAction(act), events.SourceAgent)
	if v := NewView(h.evs); ids(v.Events) != "0 1 2 3 10 11 12 13" {
		t.Errorf("after the window: %s", ids(v.Events))
	}
	if windowCondensation(h.evs[:3]) != nil {
		t.Error("nothing to forget must give no condensation")
	}
	// Only a request triggers the configured window condenser.
	c := NewCondenser(config.Condenser{Type: config.CondenserConversationWindow}, nil, nil)
	if _, act, _ := c.Condense(context.Background(), View{Events: h.evs[:14]}); act != nil {
		t.Error("window condenser acted without a request")
	}
	if _, act, _ := c.Condense(context.Background(), View{Events: h.evs[:14], UnhandledCondensationRequest: true}); act == nil {
		t.Error("window condenser ignored a request")
	}
}

func TestSummaryCondenser(t *testing.T) {
	client := &scriptedClient{respond: func(req llm.Request) (*llm.Response, error) {
		return &llm.Response{Content: "SUMMARY " + fmt.Sprint(len(req.Messages[0].Content[0].Text))}, nil
	}}
	c := NewCondenser(config.Condenser{Type: config.CondenserLLM, KeepFirst: 2, MaxSize: 10, MaxEventLength: 50}, client, nil)
	h := turns(t, 10, 200) // 22 events
	ctx := context.Background()

	v, act, err := c.Condense(ctx, NewView(h.evs))
	if err != nil || act == nil {
		t.Fatal(err, act)
	}
	// head 2, tail 10/2 - 2 - 1 = 2: forget 2..19 as a range, summary at offset 2.
	if *act.ForgottenEventsStartID != 2 || *act.ForgottenEventsEndID != 19 || *act.SummaryOffset != 2 ||
		act.ForgottenEventIDs != nil || !strings.HasPrefix(*act.Summary, "SUMMARY ") {
		t.Errorf("condensation %s", mustJSON(t, act))
	}
	if len(v.Events) != 22 {
		t.Errorf("the view is unchanged until the action is stored: %d", len(v.Events))
	}
	prompt := client.calls()[0].Messages[0].Content[0].Text
	for _, s := range []string{"<EVENT id=2 ", "<EVENT id=19 ", "echo 2", "(none)"} {
		if !strings.Contains(prompt, s) {
			t.Errorf("summarising prompt lacks %q", s)
		}
	}
	if strings.Contains(prompt, "<EVENT id=20 ") || strings.Contains(prompt, strings.Repeat("x", 100)) {
		t.Error("summarising prompt holds kept events or uncut events")
	}
	if len(client.calls()[0].Tools) != 0 {
		t.Error("the summarising request offers tools")
	}

	h.add(events.NewAction(act), events.SourceAgent)
	v = NewView(h.evs)
	if ids(v.Events) != "0 1 S 20 21" {
		t.Errorf("after condensation: %s", ids(v.Events))
	}
	if v, act, _ := c.Condense(ctx, v); act != nil || len(v.Events) != 5 {
		t.Error("condensed again below max_size")
	}

	// A request condenses a small view too, and the previous summary goes into the next one.
	h.add(events.NewAction(&events.CondensationRequestAction{}), events.SourceAgent)
	_, act, err = c.Condense(ctx, NewView(h.evs))
	if err != nil || act == nil {
		t.Fatal("a condensation request was not answered", err)
	}
	if *act.ForgottenEventsStartID != 20 || *act.ForgottenEventsEndID != 20 {
		t.Errorf("request on a small view: %s", mustJSON(t, act))
	}
	if p := client.calls()[1].Messages[0].Content[0].Text; !strings.Contains(p, "<PREVIOUS_SUMMARY>\nSUMMARY ") {
		t.Errorf("previous summary not passed on:\n%s", p)
	}
}

func TestSummaryCondenserShrinksItsOwnRequest(t *testing.T) {
	client := &scriptedClient{limit: 8000, respond: func(llm.Request) (*llm.Response, error) {
		return &llm.Response{Content: "short summary"}, nil
	}}
	c := NewCondenser(config.Condenser{Type: config.CondenserLLM, KeepFirst: 1, MaxSize: 10, MaxEventLength: 10000}, client, nil)
	_, act, err := c.Condense(context.Background(), NewView(turns(t, 10, 1000).evs))
	if err != nil || act == nil || *act.Summary != "short summary" {
		t.Fatalf("%v %s", err, mustJSON(t, act))
	}
	if n := len(client.calls()); n < 2 {
		t.Errorf("%d summarising calls; the first one was too long and must be retried shorter", n)
	}

	// When nothing fits, the events are dropped with a note.
	client = &scriptedClient{limit: 10}
	c = NewCondenser(config.Condenser{Type: config.CondenserLLM, KeepFirst: 1, MaxSize: 10}, client, nil)
	_, act, err = c.Condense(context.Background(), NewView(turns(t, 10, 10).evs))
	if err != nil || act == nil || !strings.Contains(*act.Summary, "dropped") {
		t.Fatalf("%v %s", err, mustJSON(t, act))
	}
}

func TestNewCondenserSelection(t *testing.T) {
	client := &scriptedClient{}
	tests := []struct {
		cfg  config.Condenser
		want Condenser
	}{
		{config.DefaultCondenser(config.CondenserNoop), noopCondenser{}},
		{config.Condenser{}, noopCondenser{}},
		{config.Condenser{Type: "bogus"}, noopCondenser{}},
		{config.DefaultCondenser(config.CondenserRecent), recentCondenser{keepFirst: 1, maxEvents: 100}},
		{config.DefaultCondenser(config.CondenserObservationMasking), maskingCondenser{window: 100}},
		{config.DefaultCondenser(config.CondenserBrowserOutputMasking), maskingCondenser{window: 1, browserOnly: true}},
		{config.DefaultCondenser(config.CondenserAmortized), amortizedCondenser{keepFirst: 1, maxSize: 100}},
		{config.DefaultCondenser(config.CondenserConversationWindow), windowCondenser{}},
		{config.DefaultCondenser(config.CondenserLLM), &summaryCondenser{client: client, keepFirst: 1, maxSize: 100, maxEventLength: 10000}},
		{config.DefaultCondenser(config.CondenserStructured), &summaryCondenser{client: client, keepFirst: 1, maxSize: 100, maxEventLength: 10000}},
		{config.DefaultCondenser(config.CondenserLLMAttention), &summaryCondenser{client: client, keepFirst: 1, maxSize: 100, maxEventLength: 10000}},
		{config.Condenser{Type: config.CondenserPipeline, Condensers: []config.Condenser{
			{Type: config.CondenserConversationWindow}, {Type: config.CondenserLLM, KeepFirst: 4, MaxSize: 120},
		}}, pipelineCondenser{windowCondenser{}, &summaryCondenser{client: client, keepFirst: 4, maxSize: 120, maxEventLength: 10000}}},
	}
	for _, tc := range tests {
		got := NewCondenser(tc.cfg, client, nil)
		clearLogs(got)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.cfg.Type, got, tc.want)
		}
	}
}

// clearLogs drops loggers so that condensers compare by their settings.
func clearLogs(c Condenser) {
	switch c := c.(type) {
	case *summaryCondenser:
		c.log = nil
	case pipelineCondenser:
		for _, s := range c {
			clearLogs(s)
		}
	}
}

func TestPipelineStopsAtTheFirstCondensation(t *testing.T) {
	h := turns(t, 10, 1)
	p := pipelineCondenser{
		recentCondenser{keepFirst: 1, maxEvents: 12},
		amortizedCondenser{keepFirst: 1, maxSize: 8},
		panicCondenser{},
	}
	v, act, err := p.Condense(context.Background(), NewView(h.evs))
	if err != nil || act == nil || len(v.Events) != 12 {
		t.Fatalf("%v %v %d", err, act, len(v.Events))
	}
}

type panicCondenser struct{}

func (panicCondenser) Condense(context.Context, View) (View, *events.CondensationAction, error) {
	panic("reached past a condensation")
}
