package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound: the settings, conversation or file asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: CreateConversation found the conversation already there.
	ErrExists = errors.New("already exists")
	// ErrInvalidID: a conversation id failed ValidConversationID.
	ErrInvalidID = errors.New("invalid conversation id")
)

// Options configures Open.
type Options struct {
	// Logger receives warnings and notices; nil discards them. Secrets are never logged.
	Logger *slog.Logger
	// KeyFile is the path of the 32-byte secret key; "" means <root>/secret.key. A leading "~/" is
	// expanded.
	KeyFile string
}

// Store is the on-disk store rooted at one directory. Make one with Open.
type Store struct {
	root    string
	keyFile string
	log     *slog.Logger
	sealer  *sealer

	// convMu serialises, within this process, the steps that create or remove whole conversation
	// directories (create, save, delete, the final rename of an import), so that a delete and a
	// save of the same id cannot interleave halfway. File contents need no lock: writes are atomic.
	convMu sync.Mutex

	// journalMu guards journal, the store's event journal, opened by the first OpenEventLog.
	journalMu sync.Mutex
	journal   *eventlog.Journal
	closed    bool
}

// staleTempAge is how old a leftover temporary file or directory must be before Open removes it.
// Young ones may belong to another process writing right now.
const staleTempAge = time.Hour

// Open opens (creating if needed) the store at root. It creates root with mode 0700 and, when the
// key file does not exist, a new random key with mode 0600. A leading "~/" in root is expanded to
// the home directory. Open refuses a key file that is not exactly 32 bytes, and refuses to make a
// new key when data encrypted with a previous one is present (it would become unreadable).
func Open(root string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root, err := expandPath(root)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if root == "" {
		return nil, errors.New("open store: empty root path")
	}
	keyFile := opts.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(root, "secret.key")
	} else if keyFile, err = expandPath(keyFile); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := mkdirAll(root); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{root: root, keyFile: keyFile, log: log}
	key, err := s.loadOrCreateKey()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if s.sealer, err = newSealer(key); err != nil {
		return nil, fmt.Errorf("open store: key file %s: %w", keyFile, err)
	}
	for _, dir := range []string{root, filepath.Join(root, "secrets"), s.conversationsDir()} {
		s.sweepTemp(dir)
	}
	return s, nil
}

// Root returns the absolute path of the store's root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) settingsPath() string              { return filepath.Join(s.root, "settings.json") }
func (s *Store) secretsPath() string               { return filepath.Join(s.root, "secrets", "secrets.json.enc") }
func (s *Store) legacySecretsPath() string         { return filepath.Join(s.root, "secrets.json") }
func (s *Store) conversationsDir() string          { return filepath.Join(s.root, "conversations") }
func (s *Store) workspaceRootDir() string          { return filepath.Join(s.root, "workspace") }
func (s *Store) conversationPath(id string) string { return filepath.Join(s.conversationsDir(), id) }

// expandPath turns "~" and a leading "~/" into the home directory and makes the path absolute.
func expandPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand %q: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	return filepath.Abs(p)
}

// loadOrCreateKey reads the key file, or creates it when absent.
func (s *Store) loadOrCreateKey() ([]byte, error) {
	key, err := s.readKey()
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := s.checkNothingEncrypted(); err != nil {
		return nil, err
	}
	key = make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if err := mkdirAll(filepath.Dir(s.keyFile)); err != nil {
		return nil, err
	}
	if err := writeFileExclusive(s.keyFile, key); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between our read and our write: use theirs.
			return s.readKey()
		}
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	s.log.Info("created secret key", "path", s.keyFile)
	return key, nil
}

func (s *Store) readKey() ([]byte, error) {
	fi, err := os.Stat(s.keyFile)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", s.keyFile)
	}
	if fi.Size() != keySize {
		return nil, fmt.Errorf("key file %s must be exactly %d bytes, it has %d", s.keyFile, keySize, fi.Size())
	}
	key, err := os.ReadFile(s.keyFile)
	if err != nil {
		return nil, err
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("key file %s must be exactly %d bytes, it has %d", s.keyFile, keySize, len(key))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		s.log.Warn("secret key file is readable by other users; chmod 600 it", "path", s.keyFile, "mode", fi.Mode().Perm().String())
	}
	return key, nil
}

// checkNothingEncrypted fails when encrypted data exists although the key is missing: a new key
// would make that data unreadable, and the next save would silently destroy it.
func (s *Store) checkNothingEncrypted() error {
	var found []string
	if _, err := os.Stat(s.secretsPath()); err == nil {
		found = append(found, s.secretsPath())
	}
	if data, err := os.ReadFile(s.settingsPath()); err == nil && bytes.Contains(data, []byte(encPrefix)) {
		found = append(found, s.settingsPath())
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("secret key %s is missing but %s holds data encrypted with it: restore the key file, or remove %s to start over",
		s.keyFile, strings.Join(found, " and "), strings.Join(found, " and "))
}

// sweepTemp removes leftovers of interrupted writes and imports in dir that are older than
// staleTempAge. Failures are only logged: they do not stop the store from working.
func (s *Store) sweepTemp(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < staleTempAge {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			s.log.Warn("remove stale temporary file", "path", p, "err", err)
			continue
		}
		s.log.Info("removed stale temporary file", "path", p)
	}
}

// maxIDLen is the longest conversation id accepted.
const maxIDLen = 128

// ValidConversationID reports whether id can name a conversation: 1 to 128 characters, ASCII
// letters, digits, '_' and '-', not starting with '_' or '-'. That excludes every path separator
// and "..", so no id can reach outside the store root. The error wraps ErrInvalidID and quotes id.
func ValidConversationID(id string) error {
	ok := len(id) >= 1 && len(id) <= maxIDLen
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			ok = false
		}
	}
	if ok {
		return nil
	}
	shown := id
	if len(shown) > 2*maxIDLen {
		shown = shown[:2*maxIDLen] + "…"
	}
	return fmt.Errorf("%w %q: want 1-%d letters, digits, '_' or '-', starting with a letter or digit", ErrInvalidID, shown, maxIDLen)
}
