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
// # Journal
//
// A log opened with Options.Journal does not fdatasync its own file. Its
// leader writes the batch to the file (page cache only), then commits one
// frame carrying the same bytes to the store's Journal, which does group
// commit across every log waiting: one write and one fdatasync of the
// journal's current segment make the batches of many conversations durable
// at once (64 conversations with one writer each: 30 events per fdatasync
// instead of 1). Segments live in <root>/journal, one series per process,
// each flock'ed by its owner:
//
//	segment = "GHJOURN1" frame* zero*
//	frame   = length:u32 crc:u32 ino:u64 off:i64 pathLen:u16 path data
//
// length counts the bytes after crc; crc is CRC-32C over length and those
// bytes; path is the log's path relative to the root, ino its inode number
// (0: unknown), data the records the log wrote at offset off. Segments are
// extended with zeros ahead of the frames, as logs are.
//
// A segment that passes JournalOptions.SegmentSize is retired: new frames go
// to a fresh segment, every log with frames in the old one is fdatasync'ed,
// and the old one is removed. A log fdatasyncs its file when it closes, so a
// closed log needs nothing from the journal.
//
// OpenJournal first replays every segment nobody holds (its process died),
// oldest first: each frame's bytes are written back at their offset (an
// idempotent step), unless the file is gone (the conversation was deleted),
// is another file now (inode), or is open in a live process; a torn or
// corrupt frame ends its segment, since nothing after it was acknowledged.
// The touched logs are fdatasync'ed and the segment removed. Open then
// verifies each log as below.
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
