package socketio

import (
	"encoding/json"
	"errors"
	"io"
	"runtime/debug"
	"time"

	"github.com/gorilla/websocket"
)

// readLoop reads the client's packets and calls the handlers until the connection ends or the
// client misbehaves; it returns the reason as the reader sees it (an earlier reason, set by whoever
// closed the socket, takes precedence), and whether the client may still be sending (then the
// connection is closed with lingerClose).
func (s *Socket) readLoop(connectTimer *time.Timer) (reason string, linger bool) {
	for {
		mt, data, err := s.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.log.Warn("socket.io message larger than the maximum payload; closing the connection",
					"max_payload", s.srv.opts.MaxPayload)
				s.closeSent.Store(true) // gorilla has sent close 1009
				return ReasonTransportError, true
			}
			return s.readErrorReason(err), false
		}
		if mt != websocket.TextMessage {
			s.log.Warn("socket.io binary frame received: binary packets are not supported; closing the connection",
				"bytes", len(data))
			return ReasonParseError, true
		}
		if len(data) == 0 {
			return s.malformed(data, "empty engine.io packet"), true
		}
		switch data[0] {
		case engineMessage:
			if reason := s.handlePacket(data, connectTimer); reason != "" {
				return reason, reason == ReasonParseError
			}
		case enginePong:
			select {
			case s.pong <- struct{}{}:
			default:
			}
		case enginePing:
			s.Send(textFrame(string(enginePong) + string(data[1:])))
		case engineClose:
			return ReasonTransportClose, false
		case engineNoop:
		default:
			return s.malformed(data, "unexpected engine.io packet type"), true
		}
	}
}

// handlePacket handles one Engine.IO message packet (msg includes its leading '4').
func (s *Socket) handlePacket(msg []byte, connectTimer *time.Timer) string {
	p, err := decodePacket(msg[1:])
	if err != nil {
		return s.malformed(msg, err.Error())
	}
	if p.Type == packetBinaryEvent || p.Type == packetBinaryAck {
		s.log.Warn("socket.io binary packet received: binary packets are not supported; closing the connection",
			"type", p.Type.String(), "event", p.Event, "attachments", p.Attachments)
		return ReasonParseError
	}
	if s.isClosing() {
		s.log.Debug("socket.io packet after the socket started closing; ignored", "type", p.Type.String())
		return ""
	}
	switch p.Type {
	case packetConnect:
		s.onConnect(p, connectTimer)
	case packetDisconnect:
		if p.Namespace == "/" {
			return ReasonClientDisconnect
		}
	case packetEvent:
		if p.Namespace != "/" {
			s.log.Debug("socket.io event for a namespace the client is not connected to; ignored", "namespace", p.Namespace)
			return ""
		}
		if !s.accepted {
			return s.malformed(msg, "EVENT before CONNECT")
		}
		s.callOnEvent(p.Event, p.Args)
		if p.ID != noAckID {
			s.Send(ackFrame(p.ID))
		}
	case packetAck:
		// The server never asks for acknowledgements.
		s.log.Debug("socket.io unexpected ACK from the client; ignored", "ack_id", p.ID)
	case packetConnectError:
		return s.malformed(msg, "CONNECT_ERROR sent by a client")
	}
	return ""
}

func (s *Socket) onConnect(p packet, connectTimer *time.Timer) {
	if p.Namespace != "/" {
		s.Send(socketFrame(packet{Type: packetConnectError, Namespace: p.Namespace, ID: noAckID,
			Data: []byte(`{"message":"Invalid namespace"}`)}))
		return
	}
	if s.accepted {
		s.log.Warn("socket.io second CONNECT on a connected socket; ignored")
		return
	}
	connectTimer.Stop()
	s.auth = json.RawMessage(p.Data)
	if err := s.callConnect(); err != nil {
		s.log.Debug("socket.io connection refused", "error", err)
		s.end(reasonConnectRefused, connectErrorFrame(err))
		return
	}
	ack := socketFrame(packet{Type: packetConnect, ID: noAckID, Data: []byte(`{"sid":"` + s.id + `"}`)})
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		return
	}
	s.accepted = true
	s.connected.Store(true)
	s.srv.connected.Add(1)
	s.queue = append(s.queue, ack)
	s.qbytes += len(ack.b)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// connectErrorFrame is the CONNECT_ERROR that refuses a connection with err.
func connectErrorFrame(err error) *Frame {
	type body struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	b := body{Message: err.Error()}
	if ce, ok := errors.AsType[*ConnectError](err); ok {
		b = body{Message: ce.Message, Data: ce.Data}
	}
	var data []byte
	keep := func(j []byte) { data = append([]byte(nil), j...) }
	if marshal(b, keep) != nil {
		// The data cannot be encoded; the message alone still tells the client why.
		_ = marshal(body{Message: b.Message}, keep)
	}
	return socketFrame(packet{Type: packetConnectError, ID: noAckID, Data: data})
}

func (s *Socket) callConnect() (err error) {
	if s.srv.opts.Connect == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("socket.io Connect handler panicked", "panic", r, "stack", string(debug.Stack()))
			err = errors.New("internal error")
		}
	}()
	return s.srv.opts.Connect(s)
}

func (s *Socket) callOnEvent(event string, args []json.RawMessage) {
	if s.srv.opts.OnEvent == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("socket.io OnEvent handler panicked", "event", event, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	s.srv.opts.OnEvent(s, event, args)
}

func (s *Socket) callOnDisconnect(reason string) {
	if s.srv.opts.OnDisconnect == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("socket.io OnDisconnect handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	s.srv.opts.OnDisconnect(s, reason)
}

func (s *Socket) readErrorReason(err error) string {
	var closeErr *websocket.CloseError
	switch {
	case errors.As(err, &closeErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonTransportClose
	}
	if !s.isClosing() {
		s.log.Debug("socket.io read failed", "error", err)
	}
	return ReasonTransportError
}

// malformed logs a packet the server cannot accept and returns the reason to close for.
func (s *Socket) malformed(msg []byte, why string) string {
	const show = 64
	text := string(msg[:min(len(msg), show)])
	if len(msg) > show {
		text += "…"
	}
	s.log.Warn("socket.io malformed packet; closing the connection", "error", why, "packet", text, "bytes", len(msg))
	return ReasonParseError
}
