package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// seedEvents appends events to a stored conversation, stamped one second apart from 10:00:00.
// Ids: 0 user message "hello", 1 agent run "ls" (hidden when asked), 2 its output, 3 agent
// message "done", 4 state change.
func (f *fixture) seedEvents(id string, hideRun bool) {
	f.t.Helper()
	elog, err := f.store.OpenEventLog(id)
	if err != nil {
		f.t.Fatal(err)
	}
	clock := time.Date(2025, 7, 30, 10, 0, 0, 0, time.Local)
	st := events.NewStream(id, elog, events.StreamOptions{Now: func() time.Time {
		clock = clock.Add(time.Second)
		return clock.Add(-time.Second)
	}})
	defer st.Close()
	ctx := context.Background()
	for _, e := range []struct {
		ev  *events.Event
		src events.Source
	}{
		{events.NewAction(&events.MessageAction{Content: "hello", ImageURLs: []string{}, FileURLs: []string{}}), events.SourceUser},
		{events.NewAction(&events.CmdRunAction{Command: "ls", Blocking: true, Hidden: hideRun}), events.SourceAgent},
		{events.NewObservation(&events.CmdOutputObservation{Command: "ls", Metadata: events.DefaultCmdOutputMetadata(), Hidden: hideRun}, "README.md"), events.SourceAgent},
		{events.NewAction(&events.MessageAction{Content: "done", ImageURLs: []string{}, FileURLs: []string{}}), events.SourceAgent},
		{events.NewObservation(&events.AgentStateChangedObservation{AgentState: events.StateAwaitingUserInput}, ""), events.SourceEnvironment},
	} {
		if _, err := st.Append(ctx, e.ev, e.src); err != nil {
			f.t.Fatal(err)
		}
	}
}

type eventPage struct {
	Events []struct {
		ID        int64  `json:"id"`
		Source    string `json:"source"`
		Timestamp string `json:"timestamp"`
	} `json:"events"`
	HasMore bool `json:"has_more"`
}

func (f *fixture) eventIDs(query, body string) (string, bool) {
	f.t.Helper()
	resp, got := f.do("GET", "/api/conversations/0123456789abcdef0123456789abcdef/events"+query, body)
	if resp.StatusCode != 200 {
		f.t.Fatalf("events%s %s: %d %s", query, body, resp.StatusCode, got)
	}
	var p eventPage
	if err := json.Unmarshal([]byte(got), &p); err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, e := range p.Events {
		ids = append(ids, fmt.Sprint(e.ID))
	}
	return strings.Join(ids, ","), p.HasMore
}

func TestConversationEvents(t *testing.T) {
	f := newConvFixture(t, Options{})
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, time.Now(), nil)
	path := "/api/conversations/" + id + "/events"
	f.expect("GET", path, "", 200, `{"events":[],"has_more":false}`)
	if _, err := os.Stat(filepath.Join(f.store.Root(), "conversations", id, "events.log")); err == nil {
		t.Error("reading events created an empty log")
	}
	f.seedEvents(id, true)

	for _, c := range []struct {
		query, body string
		ids         string
		more        bool
	}{
		{"", "", "0,1,2,3,4", false},
		{"?limit=2", "", "0,1", true},
		{"?limit=5", "", "0,1,2,3,4", false},
		{"?start_id=2&limit=2", "", "2,3", true},
		{"?start_id=1&end_id=3", "", "1,2,3", false},
		{"?reverse=true&limit=2", "", "4,3", true},
		{"?reverse=true&start_id=2", "", "4,3,2", false},
		{"?reverse=1&end_id=1", "", "1,0", false},
		{"?end_id=-1", "", "", false},
		{"?limit=0", "", "", true},
		{"?start_id=10", "", "", false},
		{"", `{"exclude_hidden":true}`, "0,3,4", false},
		{"", `{"source":"user"}`, "0", false},
		{"", `{"query":"HELLO"}`, "0", false},
		{"", `{"start_date":"2025-07-30T10:00:02","end_date":"2025-07-30T10:00:03"}`, "2,3", false},
		{"", `{"include_types":["MessageAction"]}`, "0,3", false},
		{"", `{"exclude_types":["action:run","observation:run"],"unknown":1}`, "0,3,4", false},
		{"?limit=1", `{"source":"agent"}`, "1", true},
		{"", `null`, "0,1,2,3,4", false},
	} {
		ids, more := f.eventIDs(c.query, c.body)
		if ids != c.ids || more != c.more {
			t.Errorf("events%s %s = %q more=%v, want %q more=%v", c.query, c.body, ids, more, c.ids, c.more)
		}
	}

	f.expect("GET", path+"?limit=101", "", 400, `{"detail":"Invalid limit"}`)
	f.expect("GET", path+"?limit=-1", "", 400, `{"detail":"Invalid limit"}`)
	f.expect("GET", path+"?limit=100", "", 200, "")
	f.expect("GET", path+"?start_id=x", "", 422, "")
	f.expect("GET", path+"?reverse=maybe", "", 422,
		`{"detail":[{"type":"bool_parsing","loc":["query","reverse"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]}`)
	f.expect("GET", path, `{"query":`, 400, `{"detail":"Invalid JSON: unexpected end of JSON input"}`)
	f.expect("GET", path, `{"source":5}`, 422, `{"detail":[{"type":"string_type","loc":["body","source"],"msg":"Input should be a valid string","input":5}]}`)
	f.expect("GET", "/api/conversations/ffffffffffffffffffffffffffffffff/events", "", 404,
		`{"detail":"Conversation ffffffffffffffffffffffffffffffff not found"}`)

	// Events are OpenHands' dicts as stored.
	body := f.expect("GET", path+"?limit=1", "", 200, "")
	if !strings.Contains(body, `{"id":0,"timestamp":"2025-07-30T10:00:00","source":"user","message":"hello","action":"message","args":{"content":"hello"`) {
		t.Errorf("event JSON: %s", body)
	}
}

func TestConversationTrajectoryAndFeedback(t *testing.T) {
	f := newConvFixture(t, Options{})
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, time.Now(), nil)
	f.expect("GET", "/api/conversations/"+id+"/trajectory", "", 200, `{"trajectory":[]}`)
	f.seedEvents(id, true)

	var traj struct {
		Trajectory []map[string]any `json:"trajectory"`
	}
	if err := json.Unmarshal([]byte(f.expect("GET", "/api/conversations/"+id+"/trajectory", "", 200, "")), &traj); err != nil {
		t.Fatal(err)
	}
	if n := len(traj.Trajectory); n != 3 { // the hidden command and its output are left out
		t.Fatalf("trajectory has %d events: %v", n, traj.Trajectory)
	}

	at := time.Date(2025, 8, 1, 9, 30, 0, 0, time.UTC)
	f.srv.now = func() time.Time { return at }
	fb := "/api/conversations/" + id + "/submit-feedback"
	f.expect("POST", fb, `{"email":"a@b.c","version":"1.0","polarity":"sideways"}`, 422, "")
	f.expect("POST", fb, `{"email":"a@b.c","version":"1.0","polarity":"positive","permissions":"secret"}`, 422, "")
	f.expect("POST", fb, `{"email":`, 400, "")
	f.expect("POST", "/api/conversations/ffffffffffffffffffffffffffffffff/submit-feedback", `{"polarity":"positive"}`, 404, "")
	body := f.expect("POST", fb, `{"email":"a@b.c","version":"1.0","polarity":"negative","permissions":"public","trajectory":[],"token":""}`, 200, "")
	var resp struct {
		StatusCode int `json:"statusCode"`
		Body       struct {
			Message    string `json:"message"`
			FeedbackID string `json:"feedback_id"`
			Password   string `json:"password"`
		} `json:"body"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.StatusCode != 200 || resp.Body.FeedbackID == "" || resp.Body.Message == "" {
		t.Fatalf("feedback response %s (%v)", body, err)
	}
	data, err := os.ReadFile(filepath.Join(f.store.Root(), "conversations", id, "feedback", resp.Body.FeedbackID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Email, Polarity, Feedback, Permissions string
		Trajectory                             []map[string]any
	}
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Email != "a@b.c" || stored.Polarity != "negative" || stored.Feedback != "negative" || stored.Permissions != "public" || len(stored.Trajectory) != 3 {
		t.Errorf("stored feedback: %s", data)
	}
	// A second feedback in the same instant gets its own file.
	body2 := f.expect("POST", fb, `{"polarity":"positive"}`, 200, "")
	if body2 == body {
		t.Errorf("two feedbacks share an id: %s", body2)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.store.Root(), "conversations", id, "feedback")); len(entries) != 2 {
		t.Errorf("feedback files: %v", entries)
	}
}
