package storage

import (
	"fmt"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// OpenEventLog opens (creating if needed) the event log of a conversation,
// conversations/<id>/events.log. The caller closes it; only one open Log per conversation may exist
// at a time (the log locks its file).
func (s *Store) OpenEventLog(id string) (*eventlog.Log, error) {
	path, err := s.EventLogPath(id)
	if err != nil {
		return nil, err
	}
	l, err := eventlog.Open(path, eventlog.Options{Logger: s.log.With("conversation_id", id)})
	if err != nil {
		return nil, fmt.Errorf("open event log of conversation %s: %w", id, err)
	}
	return l, nil
}
