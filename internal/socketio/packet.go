package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Engine.IO packet types: the first byte of every websocket text frame.
const (
	engineOpen    = '0'
	engineClose   = '1'
	enginePing    = '2'
	enginePong    = '3'
	engineMessage = '4'
	engineUpgrade = '5'
	engineNoop    = '6'
)

// packetType is a Socket.IO packet type: the first byte of an Engine.IO message's payload.
type packetType byte

const (
	packetConnect packetType = iota
	packetDisconnect
	packetEvent
	packetAck
	packetConnectError
	packetBinaryEvent
	packetBinaryAck
)

func (t packetType) String() string {
	switch t {
	case packetConnect:
		return "CONNECT"
	case packetDisconnect:
		return "DISCONNECT"
	case packetEvent:
		return "EVENT"
	case packetAck:
		return "ACK"
	case packetConnectError:
		return "CONNECT_ERROR"
	case packetBinaryEvent:
		return "BINARY_EVENT"
	case packetBinaryAck:
		return "BINARY_ACK"
	}
	return "packet type " + strconv.Itoa(int(t))
}

// noAckID marks a packet without an acknowledgement id.
const noAckID = -1

// packet is one Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// Decoded packets alias the bytes they were decoded from.
type packet struct {
	Type        packetType
	Attachments int    // binary packets only
	Namespace   string // "/" when the encoding has none
	ID          int64  // acknowledgement id, or noAckID
	Data        []byte // the JSON payload, nil when absent

	// Event and Args split an EVENT's payload: its first element (the event name) and the rest.
	Event string
	Args  []json.RawMessage
}

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed socket.io packet")

// maxAckIDDigits keeps acknowledgement ids within int64; clients count them up from 0.
const maxAckIDDigits = 18

// reservedEvents cannot be sent by a peer: socket.io-client uses these names for its own events.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// decodePacket decodes one Socket.IO packet and checks its payload the way socket.io-parser does:
// CONNECT carries an object or nothing, DISCONNECT nothing, CONNECT_ERROR an object or a string,
// EVENT a non-empty array whose first element is a string (not a reserved name) or a number, ACK an
// array.
func decodePacket(b []byte) (packet, error) {
	p := packet{Namespace: "/", ID: noAckID}
	if len(b) == 0 {
		return p, fmt.Errorf("%w: empty", errMalformed)
	}
	if b[0] < '0' || b[0] > '6' {
		return p, fmt.Errorf("%w: unknown type %q", errMalformed, b[0])
	}
	p.Type = packetType(b[0] - '0')
	i := 1
	if p.Type == packetBinaryEvent || p.Type == packetBinaryAck {
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == start || i-start > 6 || i == len(b) || b[i] != '-' {
			return p, fmt.Errorf("%w: bad attachment count", errMalformed)
		}
		p.Attachments, _ = strconv.Atoi(string(b[start:i]))
		i++
	}
	if i < len(b) && b[i] == '/' {
		end := bytes.IndexByte(b[i:], ',')
		if end < 0 {
			p.Namespace = string(b[i:])
			i = len(b)
		} else {
			if end != 1 {
				p.Namespace = string(b[i : i+end])
			}
			i += end + 1
		}
	}
	if i < len(b) && isDigit(b[i]) {
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i-start > maxAckIDDigits {
			return p, fmt.Errorf("%w: acknowledgement id too long", errMalformed)
		}
		p.ID, _ = strconv.ParseInt(string(b[start:i]), 10, 64)
	}
	if i < len(b) {
		p.Data = b[i:]
	}
	if err := p.checkPayload(); err != nil {
		return p, err
	}
	return p, nil
}

func (p *packet) checkPayload() error {
	switch p.Type {
	case packetConnect:
		if p.Data != nil && !isJSON(p.Data, '{') {
			return fmt.Errorf("%w: CONNECT payload is not an object", errMalformed)
		}
	case packetDisconnect:
		if p.Data != nil {
			return fmt.Errorf("%w: DISCONNECT has a payload", errMalformed)
		}
	case packetConnectError:
		if !isJSON(p.Data, '{') && !isJSON(p.Data, '"') {
			return fmt.Errorf("%w: CONNECT_ERROR payload is neither an object nor a string", errMalformed)
		}
	case packetEvent, packetBinaryEvent:
		return p.splitEvent()
	case packetAck, packetBinaryAck:
		if !isJSON(p.Data, '[') {
			return fmt.Errorf("%w: ACK payload is not an array", errMalformed)
		}
	}
	return nil
}

// splitEvent checks an EVENT's payload and splits it into Event and Args.
func (p *packet) splitEvent() error {
	if firstByte(p.Data) != '[' {
		return fmt.Errorf("%w: EVENT payload is not an array", errMalformed)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(p.Data, &all); err != nil {
		return fmt.Errorf("%w: EVENT payload: %v", errMalformed, err)
	}
	if len(all) == 0 {
		return fmt.Errorf("%w: EVENT payload is empty", errMalformed)
	}
	name := all[0]
	switch c := firstByte(name); {
	case c == '"':
		if err := json.Unmarshal(name, &p.Event); err != nil {
			return fmt.Errorf("%w: event name: %v", errMalformed, err)
		}
		if reservedEvents[p.Event] {
			return fmt.Errorf("%w: reserved event name %q", errMalformed, p.Event)
		}
	case c == '-' || isDigit(c):
		// socket.io allows numeric event names; the handler sees the number's text.
		p.Event = string(bytes.TrimSpace(name))
	default:
		return fmt.Errorf("%w: event name is neither a string nor a number", errMalformed)
	}
	p.Args = all[1:]
	return nil
}

// appendPacket appends p's encoding (without the Engine.IO type) to dst. Event and Args are
// ignored: Data is the payload.
func appendPacket(dst []byte, p packet) []byte {
	dst = append(dst, byte('0'+p.Type))
	if p.Type == packetBinaryEvent || p.Type == packetBinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// firstByte returns the first non-space byte of a JSON text, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// isJSON reports whether b is one valid JSON value starting with the byte want.
func isJSON(b []byte, want byte) bool {
	return firstByte(b) == want && json.Valid(b)
}
