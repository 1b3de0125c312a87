// Package sessiontest holds what the session and conversation tests share: a recorder standing in
// for the socket side of the session.Emitter boundary, and a parser for the payloads it records.
package sessiontest

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/session"
)

var _ session.Emitter = (*Recorder)(nil)

// Recorder is the socket side as a session sees it (the session.Emitter boundary): it keeps, for
// each connection, every payload it would have received, in order, and what each room was sent.
type Recorder struct {
	// mu guards the maps below.
	mu          sync.Mutex
	members     map[string]map[string]bool // room → connection ids
	conns       map[string][]Delivery      // connection → what it received
	rooms       map[string][][]byte        // room → what was sent to the room as a whole
	disconnects map[string]int             // room → DisconnectRoom calls
}

// Delivery is one payload a connection received: by replay (EmitTo) or live (EmitRoom).
type Delivery struct {
	Payload []byte
	Live    bool
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{members: map[string]map[string]bool{}, conns: map[string][]Delivery{},
		rooms: map[string][][]byte{}, disconnects: map[string]int{}}
}

func (r *Recorder) EmitTo(connID string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns[connID] = append(r.conns[connID], Delivery{Payload: slices.Clone(payload)})
}

func (r *Recorder) EmitRoom(room string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := slices.Clone(payload)
	r.rooms[room] = append(r.rooms[room], p)
	for c := range r.members[room] {
		r.conns[c] = append(r.conns[c], Delivery{Payload: p, Live: true})
	}
}

func (r *Recorder) JoinRoom(connID, room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members[room] == nil {
		r.members[room] = map[string]bool{}
	}
	r.members[room][connID] = true
}

func (r *Recorder) DisconnectRoom(room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disconnects[room]++
	delete(r.members, room)
}

// Received is a copy of what a connection received.
func (r *Recorder) Received(connID string) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.conns[connID])
}

// Room is a copy of what was sent to a room.
func (r *Recorder) Room(id string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rooms[id])
}

// Payload is the part of an oh_event payload the tests look at.
type Payload struct {
	// ID is the event id, -1 for payloads that are not events; StatusID the id of a status.
	ID           int64           `json:"-"`
	StatusID     string          `json:"-"`
	RawID        json.RawMessage `json:"id"`
	Source       string          `json:"source"`
	Action       string          `json:"action"`
	Observation  string          `json:"observation"`
	Message      string          `json:"message"`
	StatusUpdate bool            `json:"status_update"`
	Type         string          `json:"type"`
	Error        bool            `json:"error"`
	Title        string          `json:"conversation_title"`
	Args         struct {
		Content string `json:"content"`
	} `json:"args"`
	Extras struct {
		AgentState string `json:"agent_state"`
		Reason     string `json:"reason"`
	} `json:"extras"`
}

// Parse decodes a payload, failing the test when it is not JSON.
func Parse(t testing.TB, data []byte) Payload {
	t.Helper()
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("payload %s: %v", data, err)
	}
	p.ID = -1
	if len(p.RawID) > 0 && p.RawID[0] == '"' {
		json.Unmarshal(p.RawID, &p.StatusID)
	} else if len(p.RawID) > 0 {
		if err := json.Unmarshal(p.RawID, &p.ID); err != nil {
			t.Fatalf("payload %s: id: %v", data, err)
		}
	}
	return p
}

// WaitFor polls cond until it holds, failing the test after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Disconnected is how many times a room was disconnected.
func (r *Recorder) Disconnected(room string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.disconnects[room]
}
