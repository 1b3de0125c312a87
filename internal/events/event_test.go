package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// keyOrder lists the keys of a JSON object in the order they are written.
func keyOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func generic(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

// TestGolden decodes one example of every action and observation type, as OpenHands 0.50 writes them,
// and checks that writing it again gives the same keys, in the same order, with the same values —
// including the derived message.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		raw := sc.Bytes()
		ev, err := Decode(raw)
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		kind := "observation:"
		if ev.Action != nil {
			kind = "action:"
		}
		seen[kind+ev.Type()] = true
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if got, want := keyOrder(t, out), keyOrder(t, raw); !slices.Equal(got, want) {
			t.Errorf("line %d: key order\n got %v\nwant %v", line, got, want)
		}
		in, o := generic(t, raw), generic(t, out)
		for _, k := range []string{"args", "extras"} {
			if _, ok := in[k]; ok {
				if got, want := keyOrder(t, mustJSON(o[k])), keyOrder(t, mustJSON(in[k])); !slices.Equal(got, want) {
					t.Errorf("line %d: %s key order\n got %v\nwant %v", line, k, got, want)
				}
			}
		}
		if !reflect.DeepEqual(in, o) {
			t.Errorf("line %d: values differ\n got %s\nwant %s", line, out, raw)
		}
		if len(ev.UnknownKeys()) != 0 {
			t.Errorf("line %d: unknown keys %v", line, ev.UnknownKeys())
		}
	}
	for _, typ := range allTypes() {
		if !seen[typ] {
			t.Errorf("no golden example of %s", typ)
		}
	}
}

func allTypes() []string {
	var all []string
	for _, a := range []ActionType{ActionMessage, ActionSystem, ActionRead, ActionWrite, ActionEdit, ActionRun,
		ActionRunIPython, ActionBrowse, ActionBrowseInteractive, ActionMCP, ActionDelegate, ActionThink,
		ActionFinish, ActionReject, ActionNull, ActionChangeAgentState, ActionRecall, ActionCondensation,
		ActionCondensationRequest} {
		all = append(all, "action:"+string(a))
	}
	for _, o := range []ObservationType{ObservationRead, ObservationWrite, ObservationEdit, ObservationBrowse,
		ObservationRun, ObservationRunIPython, ObservationDelegate, ObservationError, ObservationSuccess,
		ObservationNull, ObservationThink, ObservationAgentStateChanged, ObservationUserRejected,
		ObservationCondense, ObservationRecall, ObservationMCP, ObservationDownload} {
		all = append(all, "observation:"+string(o))
	}
	return all
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// legacyKeys are keys older OpenHands versions wrote that 0.50 migrates on read.
var legacyKeys = map[string]bool{
	"translated_ipython_code": true, "formatted_output_and_error": true, "keep_prompt": true,
	"is_confirmed": true, "images_urls": true, "exit_code": true, "command_id": true,
}

// TestFixtureRoundTrip reads every event OpenHands wrote in the shared fixtures: parse → write →
// parse gives the same values, writing is stable, and no field is lost (every key of the input is
// in the output with the same value, unless it is a legacy key OpenHands itself migrates).
func TestFixtureRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/fixtures/openhands-0.50/trajectories/*.json")
	if len(files) == 0 {
		files, _ = filepath.Glob("../../../../shared/fixtures/openhands-0.50/trajectories/*.json")
	}
	if len(files) == 0 {
		t.Fatal("no fixtures found: the shared/ directory must sit beside the repository (../shared/fixtures)")
	}
	total := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, raw := range raws {
			total++
			name := filepath.Base(file) + "#" + string(rune('0'+i))
			e1, err := Decode(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out1, err := json.Marshal(e1)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			e2, err := Decode(out1)
			if err != nil {
				t.Fatalf("%s: re-read: %v", name, err)
			}
			out2, _ := json.Marshal(e2)
			if !bytes.Equal(out1, out2) {
				t.Errorf("%s: second write differs\n1: %s\n2: %s", name, out1, out2)
			}
			if !reflect.DeepEqual(generic(t, out1), generic(t, out2)) {
				t.Errorf("%s: values differ after a round trip", name)
			}
			in, out := generic(t, raw), generic(t, out1)
			assertContained(t, name, "", in, out)
		}
	}
	if total < 10 {
		t.Fatalf("only %d fixture events read", total)
	}
}

// assertContained checks that every key of in is in out with an equal value.
func assertContained(t *testing.T, name, path string, in, out map[string]any) {
	t.Helper()
	for k, v := range in {
		if legacyKeys[k] {
			continue
		}
		got, ok := out[k]
		if !ok {
			t.Errorf("%s: field %s%s lost", name, path, k)
			continue
		}
		inner, isObj := v.(map[string]any)
		gotObj, gotIsObj := got.(map[string]any)
		if isObj && gotIsObj {
			assertContained(t, name, path+k+".", inner, gotObj)
			continue
		}
		if !reflect.DeepEqual(v, got) {
			t.Errorf("%s: field %s%s = %v, want %v", name, path, k, got, v)
		}
	}
}

func TestLegacyMigrations(t *testing.T) {
	// The editor call of a January 2025 trajectory becomes the str_replace_editor args of 0.50.
	ev, err := Decode([]byte(`{"id": 3, "action": "edit", "args": {"path": "/w/a.py", "content": "", "start": 1, "end": -1, "thought": "", "impl_source": "oh_aci", "translated_ipython_code": "print(file_editor(**{'command': 'create', 'path': '/w/a.py', 'file_text': 'import os\\nprint(\"it\\'s\")\\n'}))"}, "timeout": 120}`))
	if err != nil {
		t.Fatal(err)
	}
	edit := ev.Action.(*FileEditAction)
	if edit.Command != "create" || edit.FileText == nil || *edit.FileText != "import os\nprint(\"it's\")\n" {
		t.Fatalf("translated_ipython_code not migrated: %+v", edit)
	}
	if *ev.Timeout != 120 || ev.UnknownKeys() != nil {
		t.Fatalf("timeout %v unknown %v", *ev.Timeout, ev.UnknownKeys())
	}
	// view calls lose their command: they are read actions.
	ev, err = Decode([]byte(`{"action": "read", "args": {"path": "/a", "translated_ipython_code": "print(file_editor(**{'command': 'view', 'path': '/a'}))"}}`))
	if err != nil || ev.UnknownKeys() != nil {
		t.Fatalf("view migration: %v %v", err, ev.UnknownKeys())
	}
	// Old run observations kept exit_code and command_id beside the metadata.
	ev, err = Decode([]byte(`{"observation": "run", "content": "x", "extras": {"command": "ls", "exit_code": 2, "command_id": 7, "formatted_output_and_error": "x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	run := ev.Observation.(*CmdOutputObservation)
	if run.Metadata.ExitCode != 2 || run.Metadata.PID != 7 || run.Metadata.Username != nil {
		t.Fatalf("run metadata %+v", run.Metadata)
	}
	out, _ := json.Marshal(ev)
	if !strings.Contains(string(out), `"success":false`) || strings.Contains(string(out), "formatted_output") {
		t.Fatalf("run written as %s", out)
	}
	// A user message from the UI carries a client timestamp in args; the server's time wins.
	ev, err = Decode([]byte(`{"action": "message", "args": {"content": "hi", "file_urls": [], "timestamp": "2025-01-01T00:00:00.000Z", "images_urls": ["data:x"], "keep_prompt": true}}`))
	if err != nil || ev.UnknownKeys() != nil || ev.Timestamp != "2025-01-01T00:00:00.000Z" {
		t.Fatalf("message migration: %v %v %q", err, ev.UnknownKeys(), ev.Timestamp)
	}
	if urls := ev.Action.(*MessageAction).ImageURLs; len(urls) != 1 {
		t.Fatalf("images_urls not renamed: %v", urls)
	}
	ev, err = Decode([]byte(`{"action": "run", "args": {"command": "ls", "is_confirmed": "rejected"}}`))
	if err != nil || ev.Action.(*CmdRunAction).ConfirmationState != ConfirmationRejected {
		t.Fatalf("is_confirmed not renamed: %v", err)
	}
}

func TestUnknownKeysPreserved(t *testing.T) {
	raw := `{"id":1,"message":"I am thinking...: x","action":"think","args":{"thought":"x","Thought":"y","future":[1]},"hidden":true}`
	ev, err := Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.UnknownKeys(); !slices.Equal(got, []string{"args.Thought", "args.future", "hidden"}) {
		t.Fatalf("unknown keys %v", got)
	}
	if ev.Action.(*AgentThinkAction).Thought != "x" {
		t.Fatal("a key differing only in case must not fill the field")
	}
	out, _ := json.Marshal(ev)
	if !reflect.DeepEqual(generic(t, out), generic(t, []byte(raw))) {
		t.Fatalf("unknown keys not written back: %s", out)
	}
}

func TestMalformed(t *testing.T) {
	cases := map[string]string{
		"not json":          `{"action": `,
		"array":             `[1,2]`,
		"null":              `null`,
		"neither":           `{"id": 1}`,
		"unknown action":    `{"action": "teleport", "args": {}}`,
		"unknown obs":       `{"observation": "chat", "content": ""}`,
		"action not string": `{"action": 3}`,
		"bad args":          `{"action": "run", "args": "ls"}`,
		"wrong type":        `{"action": "read", "args": {"path": "/a", "start": "zero"}}`,
		"bad id":            `{"id": "seven", "action": "null", "args": {}}`,
		"bad source":        `{"source": "martian", "action": "null", "args": {}}`,
		"bad content":       `{"observation": "error", "content": 5}`,
		"bad metadata":      `{"observation": "run", "content": "", "extras": {"command": "x", "metadata": 5, "exit_code": 1}}`,
	}
	for name, raw := range cases {
		_, err := Decode([]byte(raw))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", name, err)
		}
	}
}

func TestMarshalShapes(t *testing.T) {
	cwd := "/workspace"
	ev := NewObservation(&CmdOutputObservation{Command: "ls", Metadata: CmdOutputMetadata{ExitCode: 0, PID: -1, WorkingDir: &cwd}}, "a <b> & c\n")
	ev.ID = 3
	ev.Timestamp = FormatTimestamp(time.Date(2025, 8, 1, 10, 0, 0, 0, time.Local))
	ev.Source = SourceAgent
	cause := int64(2)
	ev.Cause = &cause
	out, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":3,"timestamp":"2025-08-01T10:00:00","source":"agent","message":"Command ` + "`ls`" + ` executed with exit code 0.","cause":2,"observation":"run","content":"a <b> & c\n","extras":{"command":"ls","metadata":{"exit_code":0,"pid":-1,"username":null,"hostname":null,"working_dir":"/workspace","py_interpreter_path":null,"prefix":"","suffix":""},"hidden":false},"success":true}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	// A new event has no id, timestamp or source yet.
	out, _ = Marshal(NewAction(&AgentThinkAction{Thought: "hm"}))
	if string(out) != `{"message":"I am thinking...: hm","action":"think","args":{"thought":"hm"}}` {
		t.Fatalf("got %s", out)
	}
	timeout := 30.0
	ev = NewAction(&CmdRunAction{Command: "sleep 1", ConfirmationState: ConfirmationConfirmed, Blocking: true})
	ev.Timeout = &timeout
	out, _ = json.Marshal(ev)
	if !strings.HasSuffix(string(out), `"timeout":30.0}`) {
		t.Fatalf("timeout not written as Python writes it: %s", out)
	}
	if _, err := Marshal(&Event{}); err == nil {
		t.Fatal("an empty event must not encode")
	}
}

func TestFormatTimestamp(t *testing.T) {
	at := time.Date(2025, 7, 30, 10, 12, 44, 512301999, time.Local)
	if got := FormatTimestamp(at); got != "2025-07-30T10:12:44.512301" {
		t.Fatalf("got %s", got)
	}
	if got := FormatTimestamp(at.Truncate(time.Second)); got != "2025-07-30T10:12:44" {
		t.Fatalf("got %s", got)
	}
}

func TestPyRepr(t *testing.T) {
	cases := map[string]string{
		`{"a": "it's", "b": "say \"hi\"", "c": "both ' \"", "d": "tab\tnl\n\\"}`: `{'a': "it's", 'b': 'say "hi"', 'c': 'both \' "', 'd': 'tab\tnl\n\\'}`,
		`[1, 2.5, 1e-05, 1e16, 100.0, true, false, null, {}, []]`:                `[1, 2.5, 1e-05, 1e+16, 100.0, True, False, None, {}, []]`,
	}
	for in, want := range cases {
		if got := pyReprJSON(RawJSON(in), ""); got != want {
			t.Errorf("repr %s\n got %s\nwant %s", in, got, want)
		}
	}
	js, err := pyLiteralToJSON(`{'a': [1, -2.5, (True, None)], "b": 'x\'y\n\u00e9', 'c': {},}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"a":[1,-2.5,[true,null]],"b":"x'y\né","c":{}}` {
		t.Fatalf("literal → %s", js)
	}
	for _, bad := range []string{`{'a' 1}`, `{1: 2}`, `'open`, `[1, 2`, `{'a': nope}`} {
		if _, err := pyLiteralToJSON(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestMarshalTrajectory(t *testing.T) {
	shot := "data:image/png;base64,AAAA"
	browse := NewObservation(&BrowserOutputObservation{URL: "http://x", TriggerByAction: "browse", Screenshot: &shot,
		DOMObject: RawJSON(`{"big":1}`), AxtreeObject: RawJSON(`{}`), ExtraElementProperties: RawJSON(`{}`)}, "page")
	hidden := NewAction(&CmdRunAction{Command: "setup", Hidden: true})
	out, err := MarshalTrajectory([]*Event{msg("hi"), hidden, browse}, false)
	if err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(out, &arr); err != nil || len(arr) != 2 {
		t.Fatalf("trajectory %s: %v", out, err)
	}
	extras := arr[1]["extras"].(map[string]any)
	for _, k := range []string{"dom_object", "screenshot", "set_of_marks", "focused_element_bid"} {
		if _, ok := extras[k]; ok {
			t.Errorf("%s kept in trajectory", k)
		}
	}
	if extras["url"] != "http://x" || arr[1]["message"] != "Visited http://x" {
		t.Errorf("browse observation damaged: %v", arr[1])
	}
	out, _ = MarshalTrajectory([]*Event{browse}, true)
	if !strings.Contains(string(out), shot) {
		t.Error("screenshot dropped although asked for")
	}
}
