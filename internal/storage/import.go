package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/storage/eventlog"
)

// ImportReport says what ImportOpenHands did, conversation by conversation.
type ImportReport struct {
	// Imported lists the ids of conversations now in the store.
	Imported []string
	// Skipped lists the ids that were already in the store and were left alone.
	Skipped []string
	// Errors holds one error per conversation that could not be imported, each naming the file or
	// directory at fault. Nothing of those conversations was written.
	Errors []error
	// Warnings are notes about conversations that were imported with repairs, such as synthesized
	// metadata or ignored files.
	Warnings []string
}

// importSyncBytes bounds how many appended bytes an import keeps pending in the event log before
// making them durable, so a huge conversation does not sit in memory whole.
const importSyncBytes = 4 << 20

// openHandsConversation is where one OpenHands conversation's files are in the source tree.
type openHandsConversation struct {
	id        string
	dir       string      // sessions/<id>, or the users/ directory when there is no sessions/<id>
	metadata  string      // sessions/<id>/metadata.json (the metadata store always uses sessions/)
	eventDirs []eventsDir // candidate events/ directories, sessions/ first
}

// eventsDir is a candidate events/ directory and the user it belongs to ("" for sessions/).
type eventsDir struct {
	path, userID string
}

// ImportOpenHands copies the conversations of an OpenHands 0.50 file store at src into the store:
// metadata from sessions/<id>/metadata.json and events from sessions/<id>/events/<n>.json or
// users/<uid>/conversations/<id>/events/<n>.json, each event's bytes unchanged under its id n.
// Conversations already in the store are skipped. Each conversation is built in a temporary
// directory and renamed into place only when complete, so a failure leaves nothing behind; one
// conversation's failure does not stop the others. The source tree is only read.
//
// The returned error is for failures of the whole import: src unreadable, or ctx cancelled (checked
// between conversations and while copying events), in which case the report covers the
// conversations handled so far.
func (s *Store) ImportOpenHands(ctx context.Context, src string) (ImportReport, error) {
	var rep ImportReport
	src, err := expandPath(src)
	if err != nil {
		return rep, fmt.Errorf("import: %w", err)
	}
	if fi, err := os.Stat(src); err != nil {
		return rep, fmt.Errorf("import: %w", err)
	} else if !fi.IsDir() {
		return rep, fmt.Errorf("import: %s is not a directory", src)
	}
	convs, err := s.findOpenHandsConversations(src, &rep)
	if err != nil {
		return rep, fmt.Errorf("import: %w", err)
	}
	for _, c := range convs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		log := s.log.With("conversation_id", c.id)
		if err := ValidConversationID(c.id); err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", c.dir, err))
			continue
		}
		if _, err := os.Lstat(s.conversationPath(c.id)); err == nil {
			rep.Skipped = append(rep.Skipped, c.id)
			continue
		}
		err := s.importConversation(ctx, c, func(w string) {
			log.Warn("import: " + w)
			rep.Warnings = append(rep.Warnings, w)
		})
		switch {
		case err == nil:
			rep.Imported = append(rep.Imported, c.id)
		case errors.Is(err, ErrExists):
			rep.Skipped = append(rep.Skipped, c.id)
		case ctx.Err() != nil:
			return rep, ctx.Err()
		default:
			log.Warn("import failed", "err", err)
			rep.Errors = append(rep.Errors, err)
		}
	}
	s.log.Info("imported OpenHands conversations", "source", src,
		"imported", len(rep.Imported), "skipped", len(rep.Skipped), "failed", len(rep.Errors))
	return rep, nil
}

// findOpenHandsConversations lists the conversations in an OpenHands file store, sorted by id.
func (s *Store) findOpenHandsConversations(src string, rep *ImportReport) ([]*openHandsConversation, error) {
	byID := map[string]*openHandsConversation{}
	get := func(id, dir string) *openHandsConversation {
		c := byID[id]
		if c == nil {
			c = &openHandsConversation{id: id, dir: dir,
				metadata: filepath.Join(src, "sessions", id, "metadata.json")}
			byID[id] = c
		}
		return c
	}
	sessions := filepath.Join(src, "sessions")
	entries, err := readDirIfExists(sessions)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		dir := filepath.Join(sessions, e.Name())
		if !e.IsDir() {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: not a conversation directory, ignored", dir))
			continue
		}
		c := get(e.Name(), dir)
		c.eventDirs = append(c.eventDirs, eventsDir{path: filepath.Join(dir, "events")})
	}
	users := filepath.Join(src, "users")
	userEntries, err := readDirIfExists(users)
	if err != nil {
		return nil, err
	}
	for _, u := range userEntries {
		if !u.IsDir() {
			continue
		}
		convDir := filepath.Join(users, u.Name(), "conversations")
		convEntries, err := readDirIfExists(convDir)
		if err != nil {
			return nil, err
		}
		for _, e := range convEntries {
			if !e.IsDir() {
				continue
			}
			dir := filepath.Join(convDir, e.Name())
			c := get(e.Name(), dir)
			c.eventDirs = append(c.eventDirs, eventsDir{path: filepath.Join(dir, "events"), userID: u.Name()})
		}
	}
	if entries == nil && userEntries == nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: no sessions/ or users/ directory, nothing to import", src))
	}
	out := make([]*openHandsConversation, 0, len(byID))
	for _, c := range byID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *openHandsConversation) int { return strings.Compare(a.id, b.id) })
	return out, nil
}

// readDirIfExists is os.ReadDir that returns nil, nil for a missing directory.
func readDirIfExists(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// eventFile is one events/<n>.json file.
type eventFile struct {
	id   int64
	path string
}

// importConversation imports one conversation into a temporary directory and renames it into place.
func (s *Store) importConversation(ctx context.Context, c *openHandsConversation, warn func(string)) error {
	meta, err := readOpenHandsMetadata(c.metadata)
	if err != nil {
		return err
	}
	eventsDir, err := pickEventsDir(c, meta, warn)
	if err != nil {
		return err
	}
	var files []eventFile
	if eventsDir != "" {
		if files, err = listEventFiles(eventsDir, warn); err != nil {
			return err
		}
	}

	if err := mkdirAll(s.conversationsDir()); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.conversationsDir(), tmpPrefix+"import-"+c.id+"-*")
	if err != nil {
		return fmt.Errorf("import %s: %w", c.id, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed into place

	span, err := s.copyEvents(ctx, filepath.Join(tmp, "events.log"), files, meta == nil)
	if err != nil {
		return err
	}
	if meta == nil {
		meta = &ConversationMetadata{ConversationID: c.id, PRNumber: []int{}}
		why := "missing"
		if _, err := os.Stat(c.metadata); err == nil {
			why = "without created_at"
		}
		if !span.oldest.IsZero() {
			meta.CreatedAt = span.oldest
			meta.LastUpdatedAt = &span.newest
			warn(fmt.Sprintf("%s %s: metadata synthesized, created_at taken from the oldest event timestamp", c.metadata, why))
		} else {
			fi, err := os.Stat(c.dir)
			if err != nil {
				return fmt.Errorf("import %s: %w", c.id, err)
			}
			meta.CreatedAt = fi.ModTime().UTC()
			warn(fmt.Sprintf("%s %s: metadata synthesized, created_at taken from the modification time of %s", c.metadata, why, c.dir))
		}
	} else if meta.ConversationID != c.id {
		warn(fmt.Sprintf("%s: conversation_id %q differs from its directory, %q used", c.metadata, meta.ConversationID, c.id))
		meta.ConversationID = c.id
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("import %s: %w", c.id, err)
	}
	if err := writeFileAtomic(filepath.Join(tmp, "metadata.json"), data); err != nil {
		return fmt.Errorf("import %s: %w", c.id, err)
	}

	s.convMu.Lock()
	defer s.convMu.Unlock()
	final := s.conversationPath(c.id)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("import %s: %w", c.id, ErrExists) // created meanwhile
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("import %s: %w", c.id, err)
	}
	if err := syncDir(s.conversationsDir()); err != nil {
		return fmt.Errorf("import %s: %w", c.id, err)
	}
	return nil
}

// readOpenHandsMetadata reads sessions/<id>/metadata.json. It returns nil, nil when the file is
// missing or has no created_at (the caller synthesizes metadata) and an error naming the file when
// it cannot be read or parsed.
func readOpenHandsMetadata(path string) (*ConversationMetadata, error) {
	data, err := readFile(path)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeMetadata(path, data)
	if errors.Is(err, errNoCreatedAt) {
		return nil, nil
	}
	return m, err
}

// pickEventsDir chooses the events/ directory of a conversation: the user's one when the metadata
// names a user and it exists, else the first candidate that exists. "" means no events at all.
func pickEventsDir(c *openHandsConversation, meta *ConversationMetadata, warn func(string)) (string, error) {
	var existing []eventsDir
	for _, d := range c.eventDirs {
		fi, err := os.Stat(d.path)
		switch {
		case err == nil && fi.IsDir():
			existing = append(existing, d)
		case err == nil:
			return "", fmt.Errorf("%s: not a directory", d.path)
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	if len(existing) == 0 {
		return "", nil
	}
	pick := existing[0].path
	if meta != nil && meta.UserID != nil {
		for _, d := range existing {
			if d.userID == *meta.UserID {
				pick = d.path
			}
		}
	}
	if len(existing) > 1 {
		warn(fmt.Sprintf("conversation %s has events in %d places, %s used", c.id, len(existing), pick))
	}
	return pick, nil
}

// listEventFiles returns the <n>.json files of dir in id order. Other entries are ignored with a
// warning; two files for one id (7.json and 07.json) are an error.
func listEventFiles(dir string, warn func(string)) ([]eventFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []eventFile
	for _, e := range entries {
		name := e.Name()
		digits, ok := strings.CutSuffix(name, ".json")
		id, perr := strconv.ParseInt(digits, 10, 64)
		if !ok || perr != nil || id < 0 || strings.HasPrefix(digits, "+") || !e.Type().IsRegular() {
			warn(fmt.Sprintf("%s: not an event file, ignored", filepath.Join(dir, name)))
			continue
		}
		files = append(files, eventFile{id: id, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(files, func(a, b eventFile) int { return compareInt64(a.id, b.id) })
	for i := 1; i < len(files); i++ {
		if files[i].id == files[i-1].id {
			return nil, fmt.Errorf("%s and %s: two files for event %d", files[i-1].path, files[i].path, files[i].id)
		}
	}
	return files, nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// eventSpan is the range of event timestamps seen during a copy (zero when not collected).
type eventSpan struct{ oldest, newest time.Time }

// copyEvents writes files into a new event log at path, each payload unchanged under its id, and
// makes it durable. With wantSpan it also collects the oldest and newest event timestamps (OpenHands
// writes them as naive local time).
func (s *Store) copyEvents(ctx context.Context, path string, files []eventFile, wantSpan bool) (eventSpan, error) {
	var span eventSpan
	l, err := eventlog.Open(path, eventlog.Options{Logger: s.log})
	if err != nil {
		return span, err
	}
	pending := 0
	for i, f := range files {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				l.Close()
				return span, err
			}
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			l.Close()
			return span, err
		}
		if err := checkJSONObject(data); err != nil {
			l.Close()
			return span, fmt.Errorf("%s: %w", f.path, err)
		}
		if wantSpan {
			span.add(data)
		}
		if err := l.Append(f.id, data); err != nil {
			l.Close()
			return span, fmt.Errorf("%s: %w", f.path, err)
		}
		if pending += len(data); pending >= importSyncBytes {
			if err := l.WaitDurable(ctx, f.id); err != nil {
				l.Close()
				return span, err
			}
			pending = 0
		}
	}
	if len(files) > 0 {
		if err := l.WaitDurable(ctx, files[len(files)-1].id); err != nil {
			l.Close()
			return span, err
		}
	}
	return span, l.Close()
}

// checkJSONObject fails unless data is valid JSON whose top-level value is an object. The error
// quotes nothing from data: events can hold secrets.
func checkJSONObject(data []byte) error {
	if !json.Valid(data) {
		return errors.New("invalid JSON")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	return nil
}

// add widens the span by the event's timestamp, if it has a readable one.
func (sp *eventSpan) add(event []byte) {
	var e struct {
		Timestamp string `json:"timestamp"`
	}
	if json.Unmarshal(event, &e) != nil || e.Timestamp == "" {
		return
	}
	t, err := parseISO(e.Timestamp, time.Local)
	if err != nil {
		return
	}
	if sp.oldest.IsZero() || t.Before(sp.oldest) {
		sp.oldest = t
	}
	if t.After(sp.newest) {
		sp.newest = t
	}
}
