package server

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/llm/llmtest"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/testbin"
)

// sandboxBinary is the static gohands binary a local sandbox runs as its action server.
func sandboxBinary(t *testing.T) string { return testbin.Static(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// newSandboxFixture serves a manager whose conversations run in local sandboxes, with the agent
// talking to a scripted LLM.
func newSandboxFixture(t *testing.T, script []llmtest.Turn) (*fixture, *llmtest.Server) {
	t.Helper()
	bin := sandboxBinary(t)
	llm := llmtest.NewOpenAIServer(t, script)
	f, _ := newManagedFixture(t, Options{}, func(o *conversation.Options) {
		o.Sandboxes = &session.Sandboxes{Kind: session.KindLocal, Config: o.Config, Store: o.Store, Binary: bin}
	})
	f.saveLLMSettings("sk-test", llm.URL)
	return f, llm
}

// waitAgentState polls the stored events until the agent reaches state.
func (f *fixture) waitAgentState(id, state string) {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		body := f.expect("GET", "/api/conversations/"+id+"/events?reverse=true&limit=100", "", 200, "")
		var page struct {
			Events []struct {
				Observation string `json:"observation"`
				Extras      struct {
					AgentState string `json:"agent_state"`
				} `json:"extras"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			f.t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.Observation == "agent_state_changed" {
				if e.Extras.AgentState == state {
					return
				}
				if e.Extras.AgentState == "error" {
					f.t.Fatalf("the agent failed: %s", body)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the agent did not reach %s: %s", state, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConversationWithAgentAndSandbox drives a whole conversation: created with a first message,
// the scripted LLM has the agent write a file in the local sandbox and finish; the workspace and
// git routes see it; stop and delete end it.
func TestConversationWithAgentAndSandbox(t *testing.T) {
	f, llm := newSandboxFixture(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
	})
	id := f.create(`{"initial_user_msg":"create hello.txt containing hi"}`)
	info := f.waitStatus(id, "RUNNING")
	if info["url"] != "/api/conversations/"+id {
		t.Errorf("running info %v", info)
	}
	f.waitAgentState(id, "finished")
	if n := len(llm.Requests()); n != 2 {
		t.Errorf("LLM called %d times, want 2", n)
	}
	ws, err := f.store.WorkspaceDir(id)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(ws, "hello.txt")); err != nil || string(data) != "hi" {
		t.Fatalf("hello.txt: %q %v", data, err)
	}
	if body := f.expect("GET", "/api/conversations?limit=20", "", 200, ""); !strings.Contains(body, `"status":"RUNNING","runtime_status":"STATUS$READY"`) {
		t.Errorf("list: %s", body)
	}
	if body := f.expect("GET", "/api/conversations/"+id+"/microagents", "", 200, ""); body != "{\"microagents\":[]}\n" {
		t.Errorf("microagents: %s", body)
	}
	var traj struct {
		Trajectory []map[string]any `json:"trajectory"`
	}
	if err := json.Unmarshal([]byte(f.expect("GET", "/api/conversations/"+id+"/trajectory", "", 200, "")), &traj); err != nil || len(traj.Trajectory) < 5 {
		t.Errorf("trajectory (%v): %v", err, traj.Trajectory)
	}

	checkGit(t, f, id, ws)

	f.expect("POST", "/api/conversations/"+id+"/stop", "", 200,
		`{"status":"ok","conversation_id":"`+id+`","message":"Conversation stopped successfully","conversation_status":"RUNNING"}`)
	f.waitStatus(id, "STOPPED")
	// A stopped conversation's sandbox is started again for a file request.
	if body := f.expect("GET", "/api/conversations/"+id+"/select-file?file=hello.txt", "", 200, ""); !strings.Contains(body, `"code":"changed\n"`) {
		t.Errorf("select-file on a stopped conversation: %s", body)
	}
	f.expect("DELETE", "/api/conversations/"+id, "", 200, `true`)
	if _, err := os.Stat(ws); err == nil {
		t.Error("the workspace outlived its conversation")
	}
	f.expect("GET", "/api/conversations/"+id+"/list-files", "", 404, `{"detail":"Conversation `+id+` not found"}`)
}

// checkGit exercises git/changes and git/diff on the conversation's workspace.
func checkGit(t *testing.T, f *fixture, id, ws string) {
	t.Helper()
	base := "/api/conversations/" + id
	f.expect("GET", base+"/git/changes", "", 404, `{"error":"Not a git repository"}`)
	gitCmd(t, ws, "init", "-q")
	gitCmd(t, ws, "add", "hello.txt")
	gitCmd(t, ws, "commit", "-q", "-m", "first")
	writeFile(t, filepath.Join(ws, "hello.txt"), "changed\n")
	writeFile(t, filepath.Join(ws, "sub", "new file.txt"), "new\n")
	writeFile(t, filepath.Join(ws, "gone.txt"), "x")
	writeFile(t, filepath.Join(ws, "old name.txt"), "moving\n")
	gitCmd(t, ws, "add", "gone.txt", "old name.txt")
	gitCmd(t, ws, "commit", "-q", "-m", "second")
	os.Remove(filepath.Join(ws, "gone.txt"))
	gitCmd(t, ws, "mv", "old name.txt", "moved.txt")

	var changes []gitChange
	if err := json.Unmarshal([]byte(f.expect("GET", base+"/git/changes", "", 200, "")), &changes); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(changes, func(a, b gitChange) int { return strings.Compare(a.Path, b.Path) })
	want := []gitChange{{"D", "gone.txt"}, {"M", "hello.txt"}, {"R", "moved.txt"}, {"A", "sub/new file.txt"}}
	if !slices.Equal(changes, want) {
		t.Errorf("git changes %v, want %v", changes, want)
	}
	f.expect("GET", base+"/git/diff?path=hello.txt", "", 200, `{"modified":"changed\n","original":"hi"}`)
	f.expect("GET", base+"/git/diff?path=sub/new%20file.txt", "", 200, `{"modified":"new\n","original":""}`)
	f.expect("GET", base+"/git/diff?path=gone.txt", "", 200, `{"modified":"","original":"x"}`)
	f.expect("GET", base+"/git/diff?path=../../secret.key", "", 400, "")
	f.expect("GET", base+"/git/diff?path=/etc/passwd", "", 400, "")
	f.expect("GET", base+"/git/diff", "", 422, "")
	if entries, _ := filepath.Glob(filepath.Join(ws, ".git", "gohands-original-*")); len(entries) != 0 {
		t.Errorf("git/diff left scratch files: %v", entries)
	}
}

// TestConversationFileRoutes covers list-files, select-file, zip-directory and upload-files on a
// conversation with no agent loop: the manager starts its sandbox for the requests.
func TestConversationFileRoutes(t *testing.T) {
	f, _ := newSandboxFixture(t, nil)
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, time.Now(), nil)
	ws, err := f.store.WorkspaceDir(id)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ws, "README.md"), "# hello\n")
	writeFile(t, filepath.Join(ws, "src", "main.go"), "package main\n")
	writeFile(t, filepath.Join(ws, "src", "debug.log"), "x")
	writeFile(t, filepath.Join(ws, "src", "node_modules", "x.js"), "x")
	writeFile(t, filepath.Join(ws, "build", "out"), "x")
	writeFile(t, filepath.Join(ws, "node_modules", "y.js"), "y")
	writeFile(t, filepath.Join(ws, ".git", "HEAD"), "ref: refs/heads/main\n")
	writeFile(t, filepath.Join(ws, ".gitignore"), "# generated\n*.log\nbuild/\n!keep.log\n")
	writeFile(t, filepath.Join(ws, "keep.log"), "kept")
	if err := os.WriteFile(filepath.Join(ws, "prog.bin"), []byte{0x7f, 'E', 'L', 'F', 0, 1, 2, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	base := "/api/conversations/" + id

	f.expect("GET", base+"/list-files", "", 200, `["src/",".gitignore","keep.log","prog.bin","README.md"]`)
	f.expect("GET", base+"/list-files?path=src", "", 200, `["src/main.go"]`)
	f.expect("GET", base+"/list-files?path=src/", "", 200, `["src/main.go"]`)
	f.expect("GET", base+"/list-files?path=missing", "", 200, `[]`)
	outside := `{"error":"\"../..\": path is outside the workspace"}`
	f.expect("GET", base+"/list-files?path=../..", "", 400, outside)
	f.expect("GET", base+"/list-files?path=/etc", "", 400, "")
	f.expect("GET", base+"/list-files?path="+ws+"/src", "", 200, `["`+ws+`/src/main.go"]`)

	f.expect("GET", base+"/select-file?file=README.md", "", 200, `{"code":"# hello\n"}`)
	f.expect("GET", base+"/select-file?file="+ws+"/src/main.go", "", 200, `{"code":"package main\n"}`)
	f.expect("GET", base+"/select-file?file=prog.bin", "", 415, `{"error":"Unable to open binary file: `+ws+`/prog.bin"}`)
	f.expect("GET", base+"/select-file?file=src/../../x", "", 400, "")
	f.expect("GET", base+"/select-file?file=/etc/passwd", "", 400, "")
	f.expect("GET", base+"/select-file?file=nope.txt", "", 500, "")
	f.expect("GET", base+"/select-file", "", 422, `{"detail":[{"type":"missing","loc":["query","file"],"msg":"Field required","input":null}]}`)

	resp, body := f.do("GET", base+"/zip-directory", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="workspace.zip"` {
		t.Fatalf("zip-directory: %d %v", resp.StatusCode, resp.Header)
	}
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, "src/main.go") }) {
		t.Errorf("zip entries %v", names)
	}

	checkUploads(t, f, id, ws)

	f.expect("GET", "/api/conversations/ffffffffffffffffffffffffffffffff/list-files", "", 404,
		`{"detail":"Conversation ffffffffffffffffffffffffffffffff not found"}`)
	f.expect("GET", "/api/conversations/ffffffffffffffffffffffffffffffff/git/changes", "", 404, "")
}

type uploadPart struct {
	field, name string
	data        []byte
}

// upload posts a multipart body and returns the status and body.
func (f *fixture) upload(id string, parts ...uploadPart) (int, string) {
	f.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.name+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			f.t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", f.ts.URL+"/api/conversations/"+id+"/upload-files", &buf)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func checkUploads(t *testing.T, f *fixture, id, ws string) {
	t.Helper()
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\n', 0}
	code, body := f.upload(id,
		uploadPart{"files", "notes.txt", []byte("some notes")},
		uploadPart{"files", "assets/logo.bin", binary},
		uploadPart{"files", "../../../escape.txt", []byte("contained")},
		uploadPart{"files", "/abs/path.txt", []byte("abs")},
		uploadPart{"files", "archive.zip", []byte("not really a zip")},
		uploadPart{"other", "ignored.txt", []byte("x")},
		uploadPart{"files", "..", []byte("x")},
	)
	want := `{"uploaded_files":["` + ws + `/notes.txt","` + ws + `/assets/logo.bin","` + ws + `/escape.txt","` + ws + `/abs/path.txt","` + ws + `/archive.zip"],` +
		`"skipped_files":[{"name":"..","reason":"The file name is empty once reduced to a path inside the workspace"}]}`
	if code != 200 || body != want {
		t.Fatalf("upload: %d %s\nwant %s", code, body, want)
	}
	for name, content := range map[string]string{"notes.txt": "some notes", "assets/logo.bin": string(binary),
		"escape.txt": "contained", "abs/path.txt": "abs", "archive.zip": "not really a zip"} {
		if data, err := os.ReadFile(filepath.Join(ws, name)); err != nil || string(data) != content {
			t.Errorf("uploaded %s: %q %v", name, data, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ws), "escape.txt")); err == nil {
		t.Error("an upload escaped the workspace")
	}

	// Limits from the configuration: 1 MB per file, so at most 11 MB per request; extensions.
	f.srv.cfg.Core.FileUploadsMaxFileSizeMB = 1
	f.srv.cfg.Core.FileUploadsRestrictFileTypes = true
	f.srv.cfg.Core.FileUploadsAllowedExtensions = []string{".txt", ".MD"}
	defer func() {
		f.srv.cfg.Core.FileUploadsMaxFileSizeMB = 0
		f.srv.cfg.Core.FileUploadsRestrictFileTypes = false
	}()
	code, body = f.upload(id,
		uploadPart{"files", "big.txt", bytes.Repeat([]byte("x"), 2<<20)},
		uploadPart{"files", "tool.exe", []byte("MZ")},
		uploadPart{"files", "small.md", []byte("ok")},
	)
	want = `{"uploaded_files":["` + ws + `/small.md"],"skipped_files":[{"name":"big.txt","reason":"File larger than the limit of 1 MB"},` +
		`{"name":"tool.exe","reason":"File type not allowed: .exe"}]}`
	if code != 200 || body != want {
		t.Fatalf("upload with limits: %d %s\nwant %s", code, body, want)
	}
	code, body = f.upload(id, uploadPart{"files", "huge.txt", bytes.Repeat([]byte("x"), 12<<20)})
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"error":"Upload larger than 11 MB"`) {
		t.Errorf("oversized upload: %d %s", code, body)
	}
	// Without a Content-Length the limit is found while reading.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, _ := mw.CreateFormFile("files", "huge.txt")
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 12; i++ {
			if _, err := part.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/conversations/"+id+"/upload-files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("chunked oversized upload: %v", err)
	} else {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked oversized upload: %d %s", resp.StatusCode, data)
		}
	}
	pr.Close()
	if _, err := os.Stat(filepath.Join(ws, "huge.txt")); err == nil {
		t.Error("an oversized upload was written")
	}

	resp, got := f.do("POST", "/api/conversations/"+id+"/upload-files", `{"files":[]}`, "Content-Type", "application/json")
	if resp.StatusCode != 400 {
		t.Errorf("upload without multipart: %d %s", resp.StatusCode, got)
	}
}
