package storage

import (
	"errors"
	"fmt"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// ErrStoreClosed is returned by OpenEventLog after Close.
var ErrStoreClosed = errors.New("the store is closed")

// OpenEventLog opens (creating if needed) the event log of a conversation,
// conversations/<id>/events.log. The caller closes it; only one open Log per conversation may exist
// at a time (the log locks its file). Logs are made durable through the store's journal (one
// fdatasync for every conversation writing at the same moment); the first call opens it, which
// replays what a crash left in it.
func (s *Store) OpenEventLog(id string) (*eventlog.Log, error) {
	path, err := s.EventLogPath(id)
	if err != nil {
		return nil, err
	}
	j, err := s.eventJournal()
	if err != nil {
		return nil, err
	}
	l, err := eventlog.Open(path, eventlog.Options{Logger: s.log.With("conversation_id", id), Journal: j})
	if err != nil {
		return nil, fmt.Errorf("open event log of conversation %s: %w", id, err)
	}
	return l, nil
}

func (s *Store) eventJournal() (*eventlog.Journal, error) {
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	if s.journal == nil {
		j, err := eventlog.OpenJournal(s.root, eventlog.JournalOptions{Logger: s.log})
		if err != nil {
			return nil, fmt.Errorf("open the event journal: %w", err)
		}
		s.journal = j
	}
	return s.journal, nil
}

// Close closes the event journal, if one was opened: it syncs the event logs still open and
// removes the journal's segment. Close the event logs first; logs used after Close fail.
func (s *Store) Close() error {
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	s.closed = true
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	return err
}
