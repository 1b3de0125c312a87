package events

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and whatever it accepts must
// write and read back to the same bytes.
func FuzzDecode(f *testing.F) {
	golden, _ := os.ReadFile("testdata/golden.jsonl")
	for _, line := range bytes.Split(golden, []byte("\n")) {
		f.Add(line)
	}
	files, _ := filepath.Glob("../../../shared/fixtures/openhands-0.50/trajectories/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"action":"edit","args":{"translated_ipython_code":"print(file_editor(**{'command': 'view', 'path': '/a'}))"}}`))
	f.Add([]byte(`{"observation":"run","extras":{"exit_code":1,"command_id":2,"metadata":null}}`))
	f.Add([]byte(`{"action":"condensation","args":{"forgotten_events_start_id":1,"forgotten_events_end_id":9000000000}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		peekEnvelope(data) // must not panic on anything
		ev, err := Decode(data)
		if err != nil {
			return
		}
		out, err := Marshal(ev)
		if err != nil {
			return // e.g. a NaN timeout cannot be written; refusing is fine, panicking is not
		}
		ev2, err := Decode(out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\nin:  %q\nout: %q", err, data, out)
		}
		out2, err := Marshal(ev2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second write differs (%v)\n1: %q\n2: %q", err, out, out2)
		}
		if p, ok := peekEnvelope(out); !ok || p.Type != ev.Type() || p.Action != (ev.Action != nil) || p.Source != ev.Source {
			t.Fatalf("peek of written event disagrees: %+v vs %s %s", p, ev.Type(), ev.Source)
		}
		_ = ev.Message()
		_ = ClassName(ev)
		m := newMasker(map[string]string{"k": "a"})
		if _, err := m.mask(out); err != nil {
			t.Fatalf("cannot mask what was written: %v", err)
		}
	})
}
