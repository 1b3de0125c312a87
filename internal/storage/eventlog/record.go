package eventlog

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	// magic is the first seven bytes of every log file; the eighth is the
	// format version. A file that starts otherwise is not ours.
	magic   = "GHEVLOG"
	version = '1'
	// fileHeaderSize is the length of magic + version.
	fileHeaderSize = 8
	// recordHeaderSize is length:u32 crc:u32 id:i64.
	recordHeaderSize = 16
	// MaxPayload is the largest payload a record may carry. Events are small
	// JSON objects; anything near this size is a bug upstream, and a bound
	// lets recovery tell a corrupted length from a real one.
	MaxPayload = 64 << 20
)

// castagnoli is CRC-32C, which has hardware support on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileHeader returns the 8-byte header of a new log file.
func fileHeader() []byte {
	return append([]byte(magic), version)
}

// recordCRC is the checksum stored in a record: CRC-32C over the length
// field, the id field and the payload.
func recordCRC(hdr []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[0:4])
	c = crc32.Update(c, castagnoli, hdr[8:16])
	return crc32.Update(c, castagnoli, payload)
}

// appendRecord encodes one record onto buf and returns the extended buffer.
// The payload is copied, so the caller may reuse its slice.
func appendRecord(buf []byte, id int64, payload []byte) []byte {
	var hdr [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(id))
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(hdr[:], payload))
	buf = append(buf, hdr[:]...)
	return append(buf, payload...)
}

// recordHeader is a decoded record header.
type recordHeader struct {
	length uint32
	crc    uint32
	id     int64
}

func decodeHeader(hdr []byte) recordHeader {
	return recordHeader{
		length: binary.LittleEndian.Uint32(hdr[0:4]),
		crc:    binary.LittleEndian.Uint32(hdr[4:8]),
		id:     int64(binary.LittleEndian.Uint64(hdr[8:16])),
	}
}

// entry locates one durable record in the file.
type entry struct {
	id  int64
	off int64  // offset of the record header
	n   uint32 // payload length
}

// end is the offset just past the record.
func (e entry) end() int64 { return e.off + recordHeaderSize + int64(e.n) }
