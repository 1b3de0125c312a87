package socketio

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The encoded examples are those of the Socket.IO protocol v5 document ("Packet encoding" and
// "Exchange protocol"), without the Engine.IO message type.
func TestDecodePacketProtocolExamples(t *testing.T) {
	tests := []struct {
		name    string
		encoded string
		want    packet
	}{
		{"connect main namespace", `0`,
			packet{Type: packetConnect, Namespace: "/", ID: noAckID}},
		{"connect with payload", `0{"token":"123"}`,
			packet{Type: packetConnect, Namespace: "/", ID: noAckID, Data: []byte(`{"token":"123"}`)}},
		{"connect custom namespace", `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`,
			packet{Type: packetConnect, Namespace: "/admin", ID: noAckID, Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
		{"connect custom namespace without payload", `0/admin,`,
			packet{Type: packetConnect, Namespace: "/admin", ID: noAckID}},
		{"connect error", `4{"message":"Not authorized"}`,
			packet{Type: packetConnectError, Namespace: "/", ID: noAckID, Data: []byte(`{"message":"Not authorized"}`)}},
		{"event main namespace", `2["foo"]`,
			packet{Type: packetEvent, Namespace: "/", ID: noAckID, Data: []byte(`["foo"]`), Event: "foo", Args: []json.RawMessage{}}},
		{"event custom namespace", `2/admin,["bar"]`,
			packet{Type: packetEvent, Namespace: "/admin", ID: noAckID, Data: []byte(`["bar"]`), Event: "bar", Args: []json.RawMessage{}}},
		{"event with arguments", `2["hey","Jude"]`,
			packet{Type: packetEvent, Namespace: "/", ID: noAckID, Data: []byte(`["hey","Jude"]`), Event: "hey", Args: []json.RawMessage{json.RawMessage(`"Jude"`)}}},
		{"event with ack id", `212["foo"]`,
			packet{Type: packetEvent, Namespace: "/", ID: 12, Data: []byte(`["foo"]`), Event: "foo", Args: []json.RawMessage{}}},
		{"event custom namespace with ack id", `2/admin,12["bar"]`,
			packet{Type: packetEvent, Namespace: "/admin", ID: 12, Data: []byte(`["bar"]`), Event: "bar", Args: []json.RawMessage{}}},
		{"ack main namespace", `312[]`,
			packet{Type: packetAck, Namespace: "/", ID: 12, Data: []byte(`[]`)}},
		{"ack custom namespace", `3/admin,13["bar"]`,
			packet{Type: packetAck, Namespace: "/admin", ID: 13, Data: []byte(`["bar"]`)}},
		{"binary event", `51-["baz",{"_placeholder":true,"num":0}]`,
			packet{Type: packetBinaryEvent, Attachments: 1, Namespace: "/", ID: noAckID, Data: []byte(`["baz",{"_placeholder":true,"num":0}]`),
				Event: "baz", Args: []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`)}}},
		{"binary event with attachments and namespace", `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
			packet{Type: packetBinaryEvent, Attachments: 2, Namespace: "/admin", ID: noAckID,
				Data:  []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
				Event: "baz", Args: []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`), json.RawMessage(`{"_placeholder":true,"num":1}`)}}},
		{"binary ack", `61-15["bar",{"_placeholder":true,"num":0}]`,
			packet{Type: packetBinaryAck, Attachments: 1, Namespace: "/", ID: 15, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`)}},
		{"disconnect main namespace", `1`,
			packet{Type: packetDisconnect, Namespace: "/", ID: noAckID}},
		{"disconnect custom namespace", `1/admin,`,
			packet{Type: packetDisconnect, Namespace: "/admin", ID: noAckID}},
		{"disconnect custom namespace without comma", `1/admin`,
			packet{Type: packetDisconnect, Namespace: "/admin", ID: noAckID}},
		{"main namespace spelled out", `0/,{"a":1}`,
			packet{Type: packetConnect, Namespace: "/", ID: noAckID, Data: []byte(`{"a":1}`)}},
		{"numeric event name", `2[42,"x"]`,
			packet{Type: packetEvent, Namespace: "/", ID: noAckID, Data: []byte(`[42,"x"]`), Event: "42", Args: []json.RawMessage{json.RawMessage(`"x"`)}}},
		{"connect error as string", `4"nope"`,
			packet{Type: packetConnectError, Namespace: "/", ID: noAckID, Data: []byte(`"nope"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePacket([]byte(tt.encoded))
			if err != nil {
				t.Fatalf("decodePacket(%q): %v", tt.encoded, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("decodePacket(%q)\n got %+v\nwant %+v", tt.encoded, got, tt.want)
			}
			// Every example encodes back to itself, except two forms the encoder never writes.
			if tt.name == "main namespace spelled out" || tt.name == "disconnect custom namespace without comma" {
				return
			}
			if enc := string(appendPacket(nil, got)); enc != tt.encoded {
				t.Fatalf("appendPacket = %q, want %q", enc, tt.encoded)
			}
		})
	}
}

func TestEncodeServerPackets(t *testing.T) {
	tests := []struct {
		name  string
		frame *Frame
		want  string
	}{
		{"connect acknowledgement", socketFrame(packet{Type: packetConnect, ID: noAckID, Data: []byte(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}),
			`40{"sid":"wZX3oN0bSVIhsaknAAAI"}`},
		{"connect error", connectErrorFrame(errors.New("Not authorized")), `44{"message":"Not authorized"}`},
		{"connect error with data", connectErrorFrame(&ConnectError{Message: "Not authorized", Data: map[string]any{"content": "Please retry later"}}),
			`44{"message":"Not authorized","data":{"content":"Please retry later"}}`},
		{"wrapped connect error", connectErrorFrame(wrapErr{&ConnectError{Message: "m", Data: 1}}), `44{"message":"m","data":1}`},
		{"connect error with unencodable data", connectErrorFrame(&ConnectError{Message: "m", Data: func() {}}), `44{"message":"m"}`},
		{"connect error without html escaping", connectErrorFrame(errors.New("<a&b>")), `44{"message":"<a&b>"}`},
		{"invalid namespace", socketFrame(packet{Type: packetConnectError, Namespace: "/admin", ID: noAckID, Data: []byte(`{"message":"Invalid namespace"}`)}),
			`44/admin,{"message":"Invalid namespace"}`},
		{"event", eventFrame("hey", []byte(`"Jude"`)), `42["hey","Jude"]`},
		{"event without argument", eventFrame("foo", nil), `42["foo"]`},
		{"event name escaping", eventFrame("a\"b\\c\n<>&\u2028\x01\xff", []byte(`1`)), `42["a\"b\\c\n<>&\u2028\u0001\ufffd",1]`},
		{"ack", ackFrame(12), `4312[]`},
		{"disconnect", disconnectFrame, `41`},
		{"ping", pingFrame, `2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.frame.packet()); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

type wrapErr struct{ err error }

func (w wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapErr) Unwrap() error { return w.err }

func TestDecodePacketMalformed(t *testing.T) {
	tests := []string{
		``,
		`7`,
		`a`,
		`2`,                             // EVENT without payload
		`2[]`,                           // EVENT with an empty array
		`2{"a":1}`,                      // EVENT payload is not an array
		`2["foo"`,                       // truncated JSON
		`2[{"a":1}]`,                    // event name is an object
		`2[null]`,                       // event name is null
		`2["connect"]`,                  // reserved event name
		`2["disconnect",1]`,             // reserved event name
		`2["foo"]x`,                     // trailing garbage
		`0[]`,                           // CONNECT payload is not an object
		`0"token"`,                      // CONNECT payload is not an object
		`0{`,                            // CONNECT payload is not JSON
		`1{}`,                           // DISCONNECT with a payload
		`3`,                             // ACK without payload
		`3{}`,                           // ACK payload is not an array
		`4`,                             // CONNECT_ERROR without payload
		`4[1]`,                          // CONNECT_ERROR payload is an array
		`5["foo"]`,                      // BINARY_EVENT without attachment count
		`5x-["foo"]`,                    // bad attachment count
		`51["foo"]`,                     // attachment count not followed by '-'
		`51`,                            // truncated
		`51234567-["foo"]`,              // absurd attachment count
		`21234567890123456789["foo"]`,   // ack id beyond int64
		`2/admin,`,                      // EVENT to a namespace without payload
		"2[\"foo\",\x00]",               // invalid JSON
		`0/admin,12{"a":1}x`,            // trailing garbage after CONNECT payload
		`2["\ud800"`,                    // truncated
		strings.Repeat("2", 100) + `[]`, // long ack id
	}
	for _, in := range tests {
		p, err := decodePacket([]byte(in))
		if err == nil {
			t.Errorf("decodePacket(%q) = %+v, want an error", in, p)
			continue
		}
		if !errors.Is(err, errMalformed) {
			t.Errorf("decodePacket(%q) error %v does not wrap errMalformed", in, err)
		}
	}
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{
		`0`, `0{"token":"123"}`, `0/admin,{"sid":"x"}`, `1`, `1/admin,`, `2["foo"]`, `212["foo",{"a":[1,2]}]`,
		`2/admin,12["bar"]`, `3/admin,13["bar"]`, `4{"message":"Not authorized"}`,
		`51-["baz",{"_placeholder":true,"num":0}]`, `61-15["bar",{"_placeholder":true,"num":0}]`, `2[1]`, `5-`, `0/`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePacket(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again, err := decodePacket(appendPacket(nil, p))
		if err != nil {
			t.Fatalf("re-encoding of %q (%q) does not decode: %v", b, appendPacket(nil, p), err)
		}
		if again.Type != p.Type || again.Namespace != p.Namespace || again.ID != p.ID || again.Event != p.Event ||
			string(again.Data) != string(p.Data) || len(again.Args) != len(p.Args) {
			t.Fatalf("round trip of %q: got %+v, want %+v", b, again, p)
		}
	})
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "foo", "a\"b", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: not JSON: %v", s, b, err)
		}
		// encoding/json turns invalid UTF-8 into U+FFFD the same way.
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("appendJSONString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	})
}

func TestFrameHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 1 << 20} {
		payload := strings.Repeat("x", n)
		f := textFrame(payload)
		if string(f.packet()) != payload {
			t.Fatalf("n=%d: payload changed", n)
		}
		h := f.b[:f.hdr]
		if h[0] != 0x81 {
			t.Fatalf("n=%d: first byte %#x, want FIN|text", n, h[0])
		}
		var got int
		switch {
		case h[1] < 126:
			got = int(h[1])
			if len(h) != 2 {
				t.Fatalf("n=%d: header length %d", n, len(h))
			}
		case h[1] == 126:
			got = int(h[2])<<8 | int(h[3])
			if len(h) != 4 || n < 126 {
				t.Fatalf("n=%d: header length %d", n, len(h))
			}
		default:
			for _, c := range h[2:10] {
				got = got<<8 | int(c)
			}
			if len(h) != 10 || n <= 0xFFFF {
				t.Fatalf("n=%d: header length %d", n, len(h))
			}
		}
		if got != n {
			t.Fatalf("n=%d: header says %d", n, got)
		}
	}
}
