package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CreateConversation stores the metadata of a new conversation. It fails with an error wrapping
// ErrExists when the conversation already has metadata.
func (s *Store) CreateConversation(m *ConversationMetadata) error {
	data, dir, err := s.encodeMetadata(m)
	if err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	s.convMu.Lock()
	defer s.convMu.Unlock()
	if err := s.makeConversationDir(dir); err != nil {
		return fmt.Errorf("create conversation %s: %w", m.ConversationID, err)
	}
	if err := writeFileExclusive(filepath.Join(dir, "metadata.json"), data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create conversation %s: %w", m.ConversationID, ErrExists)
		}
		return fmt.Errorf("create conversation %s: %w", m.ConversationID, err)
	}
	return nil
}

// SaveConversation creates or replaces the metadata of a conversation.
func (s *Store) SaveConversation(m *ConversationMetadata) error {
	data, dir, err := s.encodeMetadata(m)
	if err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	s.convMu.Lock()
	defer s.convMu.Unlock()
	if err := s.makeConversationDir(dir); err != nil {
		return fmt.Errorf("save conversation %s: %w", m.ConversationID, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "metadata.json"), data); err != nil {
		return fmt.Errorf("save conversation %s: %w", m.ConversationID, err)
	}
	return nil
}

func (s *Store) encodeMetadata(m *ConversationMetadata) (data []byte, dir string, err error) {
	if m == nil {
		return nil, "", errors.New("nil metadata")
	}
	if err := ValidConversationID(m.ConversationID); err != nil {
		return nil, "", err
	}
	if m.CreatedAt.IsZero() {
		return nil, "", fmt.Errorf("conversation %s: created_at is not set", m.ConversationID)
	}
	data, err = json.Marshal(m)
	if err != nil {
		return nil, "", fmt.Errorf("conversation %s: %w", m.ConversationID, err)
	}
	return data, s.conversationPath(m.ConversationID), nil
}

// makeConversationDir creates conversations/ and dir, fsyncing the parent when dir is new.
func (s *Store) makeConversationDir(dir string) error {
	if err := mkdirAll(s.conversationsDir()); err != nil {
		return err
	}
	err := os.Mkdir(dir, dirPerm)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(s.conversationsDir())
}

// GetConversation reads a conversation's metadata. It returns an error wrapping ErrNotFound when the
// conversation or its metadata.json does not exist, or when the file has no created_at (OpenHands
// treats that as missing too); other problems name the file.
func (s *Store) GetConversation(id string) (*ConversationMetadata, error) {
	if err := ValidConversationID(id); err != nil {
		return nil, err
	}
	return s.readMetadata(id)
}

func (s *Store) readMetadata(id string) (*ConversationMetadata, error) {
	path := filepath.Join(s.conversationPath(id), "metadata.json")
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	m, err := decodeMetadata(path, data)
	if err != nil {
		return nil, err
	}
	if m.ConversationID != id {
		return nil, fmt.Errorf("%s: conversation_id %q does not match its directory", path, m.ConversationID)
	}
	return m, nil
}

func decodeMetadata(path string, data []byte) (*ConversationMetadata, error) {
	var m ConversationMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: invalid metadata JSON: %w", path, err)
	}
	return &m, nil
}

// ListConversations returns the metadata of every stored conversation, newest created first (ties
// by id). Entries that cannot be read (a stray file, a directory without metadata.json, invalid
// JSON) are left out and reported in the second result, each error naming the file; they never
// fail the listing. Names starting with "." are the store's own temporary entries and are skipped.
func (s *Store) ListConversations() ([]*ConversationMetadata, []error) {
	entries, err := os.ReadDir(s.conversationsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{err}
	}
	var (
		list []*ConversationMetadata
		errs []error
	)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(s.conversationsDir(), name)
		if !e.IsDir() {
			errs = append(errs, fmt.Errorf("%s: not a conversation directory", path))
			continue
		}
		if err := ValidConversationID(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		m, err := s.readMetadata(name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && !errors.Is(err, errNoCreatedAt) {
				err = fmt.Errorf("%s: no metadata.json: %w", path, ErrNotFound)
			}
			errs = append(errs, err)
			continue
		}
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *ConversationMetadata) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ConversationID, b.ConversationID)
	})
	return list, errs
}

// DeleteConversation removes conversations/<id>/ and workspace/<id>/. It returns an error wrapping
// ErrNotFound when the conversation directory does not exist (the workspace is removed regardless).
// The conversation directory is first renamed aside, so it disappears at once even if removing its
// files fails midway. The caller must have closed the conversation's event log.
func (s *Store) DeleteConversation(id string) error {
	if err := ValidConversationID(id); err != nil {
		return err
	}
	s.convMu.Lock()
	defer s.convMu.Unlock()
	var errs []error
	dir := s.conversationPath(id)
	found := true
	aside, err := os.MkdirTemp(s.conversationsDir(), tmpPrefix+"delete-"+id+"-*")
	if err == nil {
		target := filepath.Join(aside, id)
		err = os.Rename(dir, target)
		switch {
		case err == nil:
			if err := syncDir(s.conversationsDir()); err != nil {
				errs = append(errs, err)
			}
		case errors.Is(err, fs.ErrNotExist):
			found = false
		default:
			errs = append(errs, err)
		}
		if err := os.RemoveAll(aside); err != nil {
			errs = append(errs, err)
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		found = false // no conversations/ directory at all
	} else {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(s.workspaceRootDir(), id)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete conversation %s: %w", id, err)
	}
	if !found {
		return fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	return nil
}

// ConversationDir returns the path of conversations/<id>/ without creating it.
func (s *Store) ConversationDir(id string) (string, error) {
	if err := ValidConversationID(id); err != nil {
		return "", err
	}
	return s.conversationPath(id), nil
}

// EventLogPath returns the path of the conversation's event log, conversations/<id>/events.log.
func (s *Store) EventLogPath(id string) (string, error) {
	dir, err := s.ConversationDir(id)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "events.log"), nil
}

// WriteTrajectory atomically writes data as conversations/<id>/trajectory.json and returns its path.
// The conversation directory must exist (ErrNotFound otherwise).
func (s *Store) WriteTrajectory(id string, data []byte) (string, error) {
	dir, err := s.ConversationDir(id)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("write trajectory: conversation %s: %w", id, ErrNotFound)
	}
	path := filepath.Join(dir, "trajectory.json")
	if err := writeFileAtomic(path, data); err != nil {
		return "", fmt.Errorf("write trajectory: %w", err)
	}
	return path, nil
}

// WorkspaceDir returns workspace/<id>/, creating it (mode 0700) when missing.
func (s *Store) WorkspaceDir(id string) (string, error) {
	if err := ValidConversationID(id); err != nil {
		return "", err
	}
	dir := filepath.Join(s.workspaceRootDir(), id)
	if err := mkdirAll(dir); err != nil {
		return "", err
	}
	return dir, nil
}
