package events

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	raw, _ := Marshal(benchEvent())
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePlainJSON(b *testing.B) {
	raw, _ := Marshal(benchEvent())
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var v struct {
			ID      int64                 `json:"id"`
			Content string                `json:"content"`
			Extras  *CmdOutputObservation `json:"extras"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	ev := benchEvent()
	for b.Loop() {
		if _, err := Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}
