// Package eventlog is the durable per-conversation event log: one append-only
// file per conversation holding opaque payloads (JSON events) keyed by strictly
// increasing ids. It owns durability, so an event is acknowledged to users only
// after it is on disk, and crash recovery, so a crash never loses an
// acknowledged event and never silently destroys bytes.
//
// # Durability
//
// Append only encodes a record into an in-memory pending buffer (no syscall),
// so callers can call it under their own lock to fix the order of ids.
// WaitDurable then does group commit: the first waiter that finds no sync in
// flight becomes the leader, writes every pending byte with one write and one
// fdatasync, and wakes every waiter whose record is now durable; waiters that
// arrive during a sync wait for the next one. Many records share one
// fdatasync, which is where throughput comes from. Readers (Read, Scan,
// LastID, Len) see only durable records, so nothing shown to a client can be
// lost in a crash. A failed write or fdatasync makes the log failed for good
// (the on-disk state is unknown): every later call returns that error.
//
// # File format
//
// All integers are little endian.
//
//	file   = header record*
//	header = "GHEVLOG" version          (8 bytes; version is the byte '1')
//	record = length:u32 crc:u32 id:i64 payload
//
// length is the payload length (at most MaxPayload). crc is CRC-32C
// (Castagnoli) over the length field, the id field and the payload, in that
// order, so a corrupted length is caught as well as a corrupted payload. Ids
// are non-negative and strictly increasing within a file; they may have gaps
// (imported conversations).
//
// While the log is open the file is extended ahead of the data with zero
// bytes, 256 KiB at a time, so most syncs overwrite allocated blocks and
// need no journal commit. Close trims the padding; after a crash Open cuts it
// like any torn tail (all zero, so without a sidecar).
//
// # Recovery
//
// Open verifies every record. The first record that runs past the end of the
// file, has an impossible length, a bad CRC or a non-increasing id starts the
// torn tail: that record and everything after it are cut (truncate + fsync).
// Unless the cut bytes are all zero, they are first copied to a sidecar file
// "<logname>.torn-<offset>" next to the log and fsynced, and a warning is
// logged, so no bytes are ever destroyed silently. A file that does not start
// with the header is a foreign file: Open refuses it and leaves it untouched.
//
// An exclusive flock on the file keeps a second Open (from another process or
// from this one) from writing the same log.
package eventlog
