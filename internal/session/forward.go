package session

import (
	"context"
	"encoding/json"

	"github.com/gohands/gohands/internal/events"
)

// forward is the stream's "server" subscriber: each event, filtered and with its source rewritten
// as OpenHands does (server.md §3.7), goes to every connection of the room.
func (s *Session) forward(ev *events.Event, raw []byte) {
	s.opts.Metrics.EventAppended(string(ev.Source))
	s.meta.touch(ev)
	s.noteAgentState(ev)
	payload := liveJSON(ev, raw, s.log)
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.forwarded = ev.ID
	if payload == nil || s.opts.Emitter == nil {
		return
	}
	s.opts.Emitter.EmitRoom(s.id, payload)
	s.mu.Lock()
	s.lastActive = s.now()
	s.mu.Unlock()
}

// noteAgentState follows the agent for the lifecycle (Ready → Running) and the metrics.
func (s *Session) noteAgentState(ev *events.Event) {
	switch v := ev.Observation.(type) {
	case *events.AgentStateChangedObservation:
		if v.AgentState == events.StateRunning {
			s.mu.Lock()
			if s.lifecycle == Ready {
				s.lifecycle = Running
			}
			s.mu.Unlock()
		}
	}
	if ev.Source == events.SourceAgent && ev.Action != nil {
		switch ev.Action.(type) {
		case *events.SystemMessageAction, *events.ChangeAgentStateAction, *events.NullAction:
		default:
			s.opts.Metrics.AgentStep()
		}
	}
}

// liveJSON is the payload of a live event, nil when it is not forwarded. An event that goes out
// unchanged is sent as stored (raw), as replay sends it.
func liveJSON(ev *events.Event, raw []byte, log interface{ Warn(string, ...any) }) []byte {
	switch ev.Action.(type) {
	case *events.NullAction:
		return nil
	}
	switch ev.Observation.(type) {
	case *events.NullObservation:
		return nil
	}
	out := ev
	if ev.Source == events.SourceEnvironment {
		switch ev.Observation.(type) {
		case *events.CmdOutputObservation, *events.AgentStateChangedObservation, *events.RecallObservation,
			*events.ErrorObservation:
			cp := *ev
			cp.Source = events.SourceAgent
			out = &cp
		default:
			return nil // OpenHands forwards no other environment event live (they are replayed)
		}
	}
	if out == ev && len(raw) > 0 {
		return raw
	}
	data, err := events.Marshal(out)
	if err != nil {
		log.Warn("an event could not be sent to clients", "event_id", ev.ID, "err", err)
		return nil
	}
	return data
}

// Join replays the stored events after latest to a connection, then adds it to the room: with
// the forwarder held, so that it gets every later event exactly once. OpenHands' replay rules
// (server.md §3.4): null events and recall actions are skipped, and of the agent_state_changed
// observations only the last is sent, after the others.
func (s *Session) Join(ctx context.Context, connID string, latest int64) error {
	em := s.opts.Emitter
	if em == nil {
		return nil
	}
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	upto := s.forwarded
	var lastState []byte
	if latest < upto {
		for raw, err := range s.stream.Replay(ctx, latest+1) {
			if err != nil {
				return err
			}
			if raw.ID > upto {
				break
			}
			switch {
			case raw.Type == "null":
				continue
			case raw.Action && raw.Type == string(events.ActionRecall):
				continue
			case !raw.Action && raw.Type == string(events.ObservationAgentStateChanged):
				lastState = raw.JSON
				continue
			}
			em.EmitTo(connID, raw.JSON)
		}
	}
	if lastState != nil {
		em.EmitTo(connID, lastState)
	}
	em.JoinRoom(connID, s.id)
	return nil
}

// statusPayload is a kind-B status update (server.md §3.6).
type statusPayload struct {
	StatusUpdate bool   `json:"status_update"`
	Type         string `json:"type"`
	ID           string `json:"id"`
	Message      string `json:"message"`
}

// titlePayload is a kind-C title update.
type titlePayload struct {
	StatusUpdate      bool   `json:"status_update"`
	Type              string `json:"type"`
	Message           string `json:"message"`
	ConversationTitle string `json:"conversation_title"`
}

type errorJSON struct {
	Error   bool   `json:"error"`
	Message string `json:"message"`
}

func errorPayload(msg string) []byte {
	data, _ := json.Marshal(errorJSON{Error: true, Message: msg})
	return data
}

// ErrorPayload is the kind-E payload telling a client that something it asked for failed.
func ErrorPayload(msg string) []byte { return errorPayload(msg) }

// StatusPayload is a kind-B status update.
func StatusPayload(typ, id, message string) []byte {
	data, _ := json.Marshal(statusPayload{StatusUpdate: true, Type: typ, ID: id, Message: message})
	return data
}

// TitlePayload is a kind-C title update of conversation id.
func TitlePayload(id, title string) []byte {
	data, _ := json.Marshal(titlePayload{StatusUpdate: true, Type: "info", Message: id, ConversationTitle: title})
	return data
}

// setRuntimeStatus records the sandbox's status (the REST runtime_status) and tells the room.
func (s *Session) setRuntimeStatus(id, message string) {
	s.mu.Lock()
	s.runtimeStatus = id
	s.mu.Unlock()
	s.emitStatus("info", id, message)
}

// emitStatus sends a status update to the room.
func (s *Session) emitStatus(typ, id, message string) {
	s.emitPayload(StatusPayload(typ, id, message))
}

func (s *Session) emitPayload(p []byte) {
	if s.opts.Emitter == nil {
		return
	}
	s.fwdMu.Lock()
	s.opts.Emitter.EmitRoom(s.id, p)
	s.fwdMu.Unlock()
}

// EmitTitle tells the room the conversation's title changed.
func (s *Session) EmitTitle(title string) { s.emitPayload(TitlePayload(s.id, title)) }
