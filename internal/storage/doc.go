// Package storage is gohands' embedded on-disk store: user settings, encrypted secrets, conversation
// metadata, the per-conversation event log and workspace directories, all under one root (default
// ~/.openhands, the same root OpenHands 0.50 uses, so both can share a home directory).
//
// Layout:
//
//	<root>/settings.json                       user settings (OpenHands Settings JSON; secret fields encrypted)
//	<root>/secret.key                          32 random bytes made on first Open, mode 0600
//	<root>/secrets/secrets.json.enc            provider tokens and custom secrets, AES-256-GCM encrypted
//	<root>/conversations/<id>/metadata.json    conversation metadata (OpenHands metadata.json shape)
//	<root>/conversations/<id>/events.log       the durable event log (package eventlog)
//	<root>/conversations/<id>/trajectory.json  trajectory export, written on request
//	<root>/workspace/<id>/                     default per-conversation workspace directory
//
// Why this shape: the files keep OpenHands' names and JSON so a settings.json written by OpenHands
// loads unchanged, while secrets never sit on disk in clear text. Conversations live under
// conversations/ rather than OpenHands' sessions/ because the event format differs (one log instead
// of one file per event); ImportOpenHands copies sessions/ into it without touching the source.
//
// Every write goes to a temporary file in the target directory, is fsynced, renamed into place and
// the directory fsynced, so a crash leaves either the old or the new file. Files are 0600 and
// directories 0700. Every method that takes a conversation id checks it with ValidConversationID
// before touching the disk, so no id can reach outside the root.
//
// A Store is safe for concurrent use. Each write is atomic on its own; read-modify-write sequences
// (load settings, change a field, save) are the caller's to serialise.
package storage
