// Package events owns the event model of a conversation and its durable stream.
//
// An event is either an action (something someone wants done: a user message, a shell command, an edit)
// or an observation (what came of it). The JSON form is OpenHands 0.50's: the same envelope keys, the
// same args/extras keys in the same order, the same derived "message" text, so files, sockets and the
// OpenHands web UI can read what gohands writes and gohands can read what OpenHands wrote.
//
// Stream (stream.go) is the ordered, persisted, fanned-out sequence of a conversation's events: an event
// is written to the durable log before any subscriber sees it, and each subscriber reads at its own pace.
package events
