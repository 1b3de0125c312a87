package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openStore opens a store in a fresh temporary directory.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// snapshot returns every path under root with its content (directories as "<dir>"), to show that an
// operation changed nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p] = "<dir>"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if w, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		} else if v != w {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesRootAndKey(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "store")
	s, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Root() != root {
		t.Errorf("Root() = %q, want %q", s.Root(), root)
	}
	if m := mode(t, root); m != 0o700 {
		t.Errorf("root mode %v, want 0700", m)
	}
	keyPath := filepath.Join(root, "secret.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("key has %d bytes, want 32", len(key))
	}
	if m := mode(t, keyPath); m != 0o600 {
		t.Errorf("key mode %v, want 0600", m)
	}
	// A second Open keeps the key.
	if _, err := Open(root, Options{}); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(keyPath)
	if !bytes.Equal(key, again) {
		t.Error("second Open replaced the key")
	}
}

func TestOpenExpandsTilde(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	s, err := Open("~/.openhands", Options{KeyFile: "~/keys/gohands.key"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".openhands"); s.Root() != want {
		t.Errorf("Root() = %q, want %q", s.Root(), want)
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "gohands.key")); err != nil {
		t.Errorf("custom key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".openhands", "secret.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("default key file made although KeyFile was set: %v", err)
	}
}

func TestOpenRefusesBadKeyFile(t *testing.T) {
	for _, size := range []int{0, 16, 31, 33, 64} {
		root := t.TempDir()
		keyPath := filepath.Join(root, "secret.key")
		if err := os.WriteFile(keyPath, bytes.Repeat([]byte{7}, size), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(root, Options{})
		if err == nil {
			t.Fatalf("size %d: Open accepted the key", size)
		}
		if !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "32 bytes") {
			t.Errorf("size %d: error %q should name the file and the size rule", size, err)
		}
		if data, _ := os.ReadFile(keyPath); len(data) != size {
			t.Errorf("size %d: key file was changed", size)
		}
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "secret.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as key file: err = %v", err)
	}
}

func TestOpenRefusesNewKeyOverEncryptedData(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "sk-test-0123456789"
	if err := s.SaveSettings(&Settings{LLMAPIKey: &key}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSecrets(&Secrets{CustomSecrets: map[string]CustomSecret{"A": {Secret: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "secret.key")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	_, err = Open(root, Options{})
	if err == nil {
		t.Fatal("Open made a new key although encrypted data exists")
	}
	for _, want := range []string{"secret.key", "settings.json", "secrets.json.enc"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	sameSnapshot(t, before, snapshot(t, root))
}

func TestOpenSweepsStaleTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	conv := filepath.Join(root, "conversations")
	if err := os.MkdirAll(conv, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(conv, tmpPrefix+"import-abc-1")
	fresh := filepath.Join(conv, tmpPrefix+"import-abc-2")
	staleFile := filepath.Join(root, tmpPrefix+"settings.json-3")
	for _, d := range []string{stale, fresh} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(staleFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleTempAge)
	for _, p := range []string{stale, staleFile} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(root, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, staleFile} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not swept: %v", p, err)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("young temporary directory was removed: %v", err)
	}
}

func TestValidConversationID(t *testing.T) {
	long := strings.Repeat("a", 128)
	tests := []struct {
		id string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"a", true},
		{"Conv_1-x", true},
		{long, true},
		{long + "a", false},
		{strings.Repeat("b", 200), false},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{`a\b`, false},
		{"/abs", false},
		{"-lead", false},
		{"_lead", false},
		{"has space", false},
		{"a.b", false},
		{"nul\x00", false},
		{"é", false},
	}
	for _, tt := range tests {
		err := ValidConversationID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidConversationID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("%q: error does not wrap ErrInvalidID", tt.id)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tt.id)) {
				t.Errorf("%q: error %q does not quote the id", tt.id, err)
			}
		}
	}
}

// TestInvalidIDsNeverTouchDisk runs every id-taking method with hostile ids and checks that each
// fails with ErrInvalidID and that nothing on disk, inside or next to the store, changed.
func TestInvalidIDsNeverTouchDisk(t *testing.T) {
	parent := t.TempDir()
	s, err := Open(filepath.Join(parent, "store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Something outside the store for "../" ids to aim at.
	if err := os.MkdirAll(filepath.Join(parent, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, parent)
	now := time.Now()
	for _, id := range []string{"../x", "a/b", "..", "", strings.Repeat("z", 200), "../../etc", "."} {
		calls := map[string]error{
			"CreateConversation": s.CreateConversation(&ConversationMetadata{ConversationID: id, CreatedAt: now}),
			"SaveConversation":   s.SaveConversation(&ConversationMetadata{ConversationID: id, CreatedAt: now}),
			"DeleteConversation": s.DeleteConversation(id),
		}
		_, calls["GetConversation"] = s.GetConversation(id)
		_, calls["ConversationDir"] = s.ConversationDir(id)
		_, calls["EventLogPath"] = s.EventLogPath(id)
		_, calls["WorkspaceDir"] = s.WorkspaceDir(id)
		_, calls["WriteTrajectory"] = s.WriteTrajectory(id, []byte("{}"))
		l, oerr := s.OpenEventLog(id)
		if l != nil {
			l.Close()
		}
		calls["OpenEventLog"] = oerr
		for name, err := range calls {
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("%s(%q) = %v, want ErrInvalidID", name, id, err)
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, parent))
}

// TestSecretsNeverLogged drives every path that logs or fails around secrets with a capturing
// logger and checks that no secret value shows up in the log or in any error.
func TestSecretsNeverLogged(t *testing.T) {
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	root := t.TempDir()
	s, err := Open(root, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sk-NEVER-IN-LOGS-42"
	var errs []error
	errs = append(errs, s.SaveSettings(&Settings{LLMAPIKey: ptr(secret), SearchAPIKey: ptr(secret)}))
	errs = append(errs, s.SaveSecrets(&Secrets{
		ProviderTokens: map[string]ProviderToken{"github": {Token: secret}},
		CustomSecrets:  map[string]CustomSecret{"K": {Secret: secret}},
	}))
	// Make the key readable by others (a warning) and then wrong (decryption errors).
	keyPath := filepath.Join(root, "secret.key")
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, Options{Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logBuf.String(), "readable by other users") {
		t.Errorf("no warning about the key file mode in %q", logBuf.String())
	}
	if err := os.WriteFile(keyPath, bytes.Repeat([]byte{1}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(root, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.LoadSettings()
	errs = append(errs, err)
	_, err = s2.LoadSecrets()
	errs = append(errs, err)
	// An import whose events carry the secret, one of them malformed.
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"sessions/s1/events/0.json": `{"id": 0, "args": {"content": "` + secret + `"}}`,
		"sessions/s2/events/0.json": `{"id": 0, "args": {"content": "` + secret + `"`,
	})
	rep, err := s2.ImportOpenHands(context.Background(), src)
	errs = append(errs, err)
	errs = append(errs, rep.Errors...)
	if len(rep.Errors) != 1 {
		t.Errorf("import errors %v, want one", rep.Errors)
	}
	if strings.Contains(logBuf.String(), secret) {
		t.Errorf("secret in log output:\n%s", logBuf.String())
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("secret in error %q", err)
		}
	}
}
