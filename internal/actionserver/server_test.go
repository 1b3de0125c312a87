package actionserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// newTestServer serves real components (a bash session, real files) over httptest.
func newTestServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	ws := t.TempDir()
	bash, err := NewBashSession(context.Background(), BashOptions{WorkDir: ws, NoChangeTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bash.Close() })
	files := NewFiles(FilesOptions{WorkDir: ws, Cwd: bash.Cwd, AllowedRoots: []string{ws}})
	srv := httptest.NewServer(New(Options{APIKey: "k3y", Shell: bash, Files: files}).Handler())
	t.Cleanup(srv.Close)
	return srv, ws
}

func call(t *testing.T, srv *httptest.Server, method, path, key, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, body)
	if key != "" {
		req.Header.Set(KeyHeader, key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestServerExecutes(t *testing.T) {
	srv, _ := newTestServer(t)
	code, body := call(t, srv, "POST", "/execute_action", "k3y", "application/json",
		strings.NewReader(`{"action": {"action": "run", "args": {"command": "echo hi"}, "timeout": 10.0}}`))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	ev, err := events.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	run, ok := ev.Observation.(*events.CmdOutputObservation)
	if !ok || run.Metadata.ExitCode != 0 || !strings.Contains(run.Content, "hi") {
		t.Fatalf("observation %s", body)
	}
	if code, body := call(t, srv, "GET", "/alive", "", "", nil); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("alive: %d %s", code, body)
	}
	if code, body := call(t, srv, "GET", "/server_info", "", "", nil); code != 200 || !strings.Contains(body, "uptime") {
		t.Fatalf("server_info: %d %s", code, body)
	}
}

// Bad input gets a clear 4xx with a JSON detail, never a panic or a 500.
func TestServerRefusals(t *testing.T) {
	srv, ws := newTestServer(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("x"), 0o600)
	cases := []struct {
		name, method, path, key, body string
		want                          int
		detail                        string
	}{
		{"no key", "POST", "/execute_action", "", `{"action":{"action":"run","args":{"command":"id"}}}`, 403, "Invalid API Key"},
		{"wrong key", "POST", "/list_files", "nope", `{}`, 403, "Invalid API Key"},
		{"malformed json", "POST", "/execute_action", "k3y", `{"action": `, 400, "JSON"},
		{"no action", "POST", "/execute_action", "k3y", `{}`, 400, "has no"},
		{"unknown action", "POST", "/execute_action", "k3y", `{"action":{"action":"teleport","args":{}}}`, 400, "unknown action type"},
		{"observation", "POST", "/execute_action", "k3y", `{"action":{"observation":"run","content":"","extras":{"command":"x"}}}`, 400, "not an action"},
		{"not executable here", "POST", "/execute_action", "k3y", `{"action":{"action":"finish","args":{}}}`, 400, "cannot be executed"},
		{"wrong types", "POST", "/execute_action", "k3y", `{"action":{"action":"run","args":{"command":5}}}`, 400, "command"},
		{"download outside", "GET", "/download_files?path=" + outside, "k3y", ``, 403, "outside"},
		{"download relative", "GET", "/download_files?path=rel", "k3y", ``, 400, ""},
		{"download missing", "GET", "/download_files?path=" + ws + "/nope", "k3y", ``, 400, ""},
		{"unknown endpoint", "GET", "/nope", "k3y", ``, 404, "no such endpoint"},
		{"wrong method", "GET", "/execute_action", "k3y", ``, 405, ""},
		{"upload not multipart", "POST", "/upload_file?destination=" + ws, "k3y", `x`, 400, "multipart"},
	}
	for _, tc := range cases {
		code, body := call(t, srv, tc.method, tc.path, tc.key, "application/json", strings.NewReader(tc.body))
		if code != tc.want || !strings.Contains(body, tc.detail) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, body, tc.want, tc.detail)
		}
		if code != 405 && !json.Valid([]byte(body)) {
			t.Errorf("%s: body is not JSON: %s", tc.name, body)
		}
	}
	// Uploads outside the allowed root are refused; a name that tries to climb out lands inside.
	upload := func(dest, name string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		part, _ := mw.CreateFormFile("file", name)
		part.Write([]byte("data"))
		mw.Close()
		return call(t, srv, "POST", "/upload_file?destination="+dest, "k3y", mw.FormDataContentType(), &buf)
	}
	if code, body := upload(outside, "a.txt"); code != 403 {
		t.Errorf("upload outside: %d %s", code, body)
	}
	if code, body := upload(ws+"/in", "../climb.txt"); code != 200 {
		t.Errorf("upload with a climbing name: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(ws, "climb.txt")); err == nil {
		t.Error("an uploaded name climbed out of its destination")
	}
	// A read outside the root is an error observation for the agent, not an HTTP error.
	code, body := call(t, srv, "POST", "/execute_action", "k3y", "application/json",
		strings.NewReader(`{"action":{"action":"read","args":{"path":"`+outside+`/secret.txt"}}}`))
	if code != 200 || !strings.Contains(body, `"observation":"error"`) {
		t.Errorf("read outside: %d %s", code, body)
	}
}
