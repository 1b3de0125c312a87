package socketio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/gohands/gohands/internal/jsonx"
)

// Frame is one outgoing Engine.IO packet already framed for the wire: a complete websocket frame
// (server frames are not masked). A Frame never changes once made, so one Frame can be queued on any
// number of sockets; that is what makes a broadcast cost one encoding. Make one with Server.Prepare.
type Frame struct {
	b   []byte // the websocket frame: header, then the Engine.IO packet
	hdr int    // length of the websocket header in b
}

// Len is the number of bytes the frame takes on the wire.
func (f *Frame) Len() int { return len(f.b) }

// packet returns the Engine.IO packet the frame carries, e.g. `42["event",1]`.
func (f *Frame) packet() []byte { return f.b[f.hdr:] }

// Websocket opcodes (RFC 6455 section 5.2).
const (
	opText  = 0x1
	opClose = 0x8
)

// maxHeader is the longest websocket header of an unmasked frame: 2 bytes, then 8 of length.
const maxHeader = 10

// frameBuf returns an empty frame buffer: room for the longest header, then capacity for a payload of
// about size bytes. Append the payload and call finishFrame.
func frameBuf(size int) []byte {
	return make([]byte, maxHeader, maxHeader+size)
}

// finishFrame writes the header for the payload appended to b after frameBuf's room, and returns the
// frame. The header is written right-aligned in the room, so payload bytes are never moved.
func finishFrame(b []byte, opcode byte) *Frame {
	n := len(b) - maxHeader
	h := 2
	switch {
	case n > 0xFFFF:
		h = 10
	case n > 125:
		h = 4
	}
	start := maxHeader - h
	b[start] = 0x80 | opcode // FIN
	switch h {
	case 2:
		b[start+1] = byte(n)
	case 4:
		b[start+1] = 126
		binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	default:
		b[start+1] = 127
		binary.BigEndian.PutUint64(b[start+2:], uint64(n))
	}
	return &Frame{b: b[start:], hdr: h}
}

// textFrame frames an Engine.IO packet given as text.
func textFrame(pkt string) *Frame {
	return finishFrame(append(frameBuf(len(pkt)), pkt...), opText)
}

// socketFrame frames a Socket.IO packet inside an Engine.IO message packet.
func socketFrame(p packet) *Frame {
	b := append(frameBuf(len(p.Namespace)+len(p.Data)+24), engineMessage)
	return finishFrame(appendPacket(b, p), opText)
}

// Frames that are the same for every socket.
var (
	pingFrame       = textFrame("2")
	disconnectFrame = textFrame("41")
	// closeFrame is the websocket close frame with status 1000 (normal closure).
	closeFrame = finishFrame(append(frameBuf(2), 0x03, 0xE8), opClose)
)

// eventFrame frames `42["event",<arg>]`, or `42["event"]` when arg is nil. arg must be valid JSON.
func eventFrame(event string, arg []byte) *Frame {
	b := append(frameBuf(len(event)+len(arg)+8), engineMessage, byte('0'+packetEvent), '[')
	b = appendJSONString(b, event)
	if arg != nil {
		b = append(b, ',')
		b = append(b, arg...)
	}
	b = append(b, ']')
	return finishFrame(b, opText)
}

// ackFrame frames the server's acknowledgement of a client event: `43<id>[]`.
func ackFrame(id int64) *Frame {
	b := append(frameBuf(24), engineMessage, byte('0'+packetAck))
	b = strconv.AppendInt(b, id, 10)
	b = append(b, "[]"...)
	return finishFrame(b, opText)
}

// jsonEncoder encodes values without HTML escaping (socket.io clients read the JSON, not a browser's
// HTML parser, and OpenHands' Python server does not escape either).
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// maxPooledEncoder keeps one huge payload from pinning its buffer in the pool.
const maxPooledEncoder = 64 << 10

// marshal encodes v and calls use with the JSON (valid only during the call).
func marshal(v any, use func([]byte)) error {
	e := encoders.Get().(*jsonEncoder)
	e.buf.Reset()
	err := e.enc.Encode(v)
	if err == nil {
		use(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}))
	}
	if e.buf.Cap() <= maxPooledEncoder {
		encoders.Put(e)
	}
	return err
}

// appendJSONString appends s as a JSON string without HTML escaping.
func appendJSONString(b []byte, s string) []byte { return jsonx.AppendString(b, s) }
