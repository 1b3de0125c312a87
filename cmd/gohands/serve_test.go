package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/llm/llmtest"
)

// servedGohands is a `gohands serve` process started by a test.
type servedGohands struct {
	t    *testing.T
	url  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startServe runs the real binary: `gohands serve --port 0` on 127.0.0.1 with a local sandbox.
func startServe(t *testing.T, stateDir, configText string, extra ...string) *servedGohands {
	t.Helper()
	bin := sandboxBinary(t)
	cfgPath := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgPath, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--port", "0", "--runtime", "local", "--state-dir", stateDir,
		"--config-file", cfgPath, "--sandbox-binary", bin}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cmd.Stderr = &lockedWriter{w: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &servedGohands{t: t, cmd: cmd, logs: logs}
	t.Cleanup(s.stop)
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		line := lines.Text()
		if _, rest, ok := strings.Cut(line, "listening on "); ok {
			s.url = strings.TrimSuffix(strings.Fields(rest)[0], "/")
			go io.Copy(io.Discard, stdout)
			return s
		}
	}
	t.Fatalf("gohands serve did not start; stderr:\n%s", logs.String())
	return nil
}

// stop ends the server with SIGTERM (a graceful shutdown) and checks it exits 0.
func (s *servedGohands) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("gohands serve exited with %v; stderr:\n%s", err, s.logs.String())
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("gohands serve did not stop within 60 s of SIGTERM")
	}
}

// do sends a JSON request and decodes the JSON answer into out (when not nil).
func (s *servedGohands) do(method, path string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type lockedWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	if l.mu == nil {
		l.mu = make(chan struct{}, 1)
	}
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.w.Write(p)
}

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// nodeModules returns the test/node modules directory, failing clearly when they are missing.
func nodeModules(t *testing.T) string {
	t.Helper()
	if os.Getenv("GOHANDS_SKIP_NODE") == "1" {
		t.Skip("GOHANDS_SKIP_NODE=1")
	}
	dir := filepath.Join(repoRoot(t), "test", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(dir, "socket.io-client")); err != nil {
		t.Fatalf("the node test clients are not installed: run `npm ci --prefix test/node` (or set GOHANDS_SKIP_NODE=1): %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	return dir
}

// clientResult is what sioclient.cjs prints for one client.
type clientResult struct {
	Name         string           `json:"name"`
	Connected    bool             `json:"connected"`
	SID          string           `json:"sid"`
	Events       []map[string]any `json:"events"`
	Timeout      bool             `json:"timeout"`
	Disconnect   string           `json:"disconnect"`
	ConnectError *struct {
		Message string            `json:"message"`
		Data    map[string]string `json:"data"`
	} `json:"connect_error"`
}

// clientSpec is one socket.io client of sioclient.cjs.
type clientSpec struct {
	Name      string            `json:"name"`
	Query     map[string]string `json:"query"`
	SendWhen  string            `json:"sendWhen,omitempty"`
	Send      []any             `json:"send,omitempty"`
	Until     string            `json:"until,omitempty"`
	TimeoutMs int               `json:"timeoutMs,omitempty"`
}

// runClients runs sioclient.cjs with the given clients and returns their results by name.
func runClients(t *testing.T, url string, clients ...clientSpec) map[string]clientResult {
	return runClientsSpec(t, map[string]any{"url": url, "clients": clients})
}

func runClientsSpec(t *testing.T, specMap map[string]any) map[string]clientResult {
	t.Helper()
	mods := nodeModules(t)
	spec, _ := json.Marshal(specMap)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "sioclient.cjs"), string(spec))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	results := map[string]clientResult{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var r clientResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("node client printed %q: %v", line, err)
		}
		results[r.Name] = r
	}
	return results
}

func eventIDs(evs []map[string]any) []int64 {
	var ids []int64
	for _, ev := range evs {
		if id, ok := ev["id"].(float64); ok {
			ids = append(ids, int64(id))
		}
	}
	return ids
}

func findEvent(evs []map[string]any, key, value string) map[string]any {
	for _, ev := range evs {
		if ev[key] == value {
			return ev
		}
	}
	return nil
}

func agentStates(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		if ev["observation"] == "agent_state_changed" {
			out = append(out, fmt.Sprint(ev["extras"].(map[string]any)["agent_state"]))
		}
	}
	return out
}

func checkNoDuplicates(t *testing.T, who string, ids []int64) {
	t.Helper()
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s received event %d twice (ids %v)", who, id, ids)
		}
		seen[id] = true
	}
}

// TestServeConversationOverSocketIO is the end-to-end test, with the real npm
// socket.io-client: create over REST, two clients on one conversation, a message, the scripted
// LLM's command and the sandbox's output through finish; a reconnect from latest_event_id; refused
// connects; close_delay stopping the loop and a later join rehydrating it with history intact.
func TestServeConversationOverSocketIO(t *testing.T) {
	nodeModules(t)
	llm := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > hello.txt && cat hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
		llmtest.Call("execute_bash", `{"command": "cat hello.txt"}`),
		llmtest.Call("finish", `{"message": "It says hi.", "task_completed": "true"}`),
	})
	srv := startServe(t, t.TempDir(), "[sandbox]\nclose_delay = 1\n")

	var cfgBody map[string]any
	if code := srv.do("GET", "/api/options/config", nil, &cfgBody); code != 200 || cfgBody["APP_MODE"] != "oss" {
		t.Fatalf("options/config: %d %v", code, cfgBody)
	}
	// No settings yet: the socket refuses with OpenHands' message.
	var created map[string]any
	if code := srv.do("POST", "/api/conversations", map[string]any{}, &created); code != 400 ||
		created["msg_id"] != "CONFIGURATION$SETTINGS_NOT_FOUND" {
		t.Fatalf("create without settings: %d %v", code, created)
	}
	settings := map[string]any{"llm_model": "openai/gpt-4o", "llm_api_key": "sk-test", "llm_base_url": llm.URL,
		"agent": "CodeActAgent", "language": "en"}
	if code := srv.do("POST", "/api/settings", settings, nil); code != 200 {
		t.Fatalf("settings: %d", code)
	}
	if code := srv.do("POST", "/api/conversations", map[string]any{}, &created); code != 200 {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["conversation_id"].(string)
	if created["conversation_status"] != "STARTING" {
		t.Errorf("create answered %v", created)
	}

	message := map[string]any{"action": "message", "args": map[string]any{"content": "create hello.txt containing hi",
		"image_urls": []string{}, "file_urls": []string{}, "timestamp": "2025-07-30T10:13:00.000Z"}}
	query := map[string]string{"conversation_id": id, "latest_event_id": "-1", "providers_set": "", "session_api_key": "null"}
	res := runClients(t, srv.url,
		clientSpec{Name: "a", Query: query, SendWhen: "awaiting_user_input", Send: []any{message}, Until: "finished"},
		clientSpec{Name: "b", Query: query, Until: "finished"},
	)
	a, b := res["a"], res["b"]
	for _, c := range []clientResult{a, b} {
		if !c.Connected || c.Timeout {
			t.Fatalf("client %s: connected %v timeout %v error %+v states %v\nserver log:\n%s", c.Name, c.Connected, c.Timeout, c.ConnectError, agentStates(c.Events), srv.logs)
		}
		checkNoDuplicates(t, c.Name, eventIDs(c.Events))
		run := findEvent(c.Events, "action", "run")
		out := findEvent(c.Events, "observation", "run")
		if run == nil || out == nil || !strings.Contains(fmt.Sprint(out["content"]), "hi") {
			t.Fatalf("client %s did not see the command and its output: %v", c.Name, c.Events)
		}
		if out["source"] != "agent" {
			t.Errorf("a live run observation reaches clients as source agent (OpenHands), got %v", out["source"])
		}
		if findEvent(c.Events, "action", "finish") == nil {
			t.Errorf("client %s saw no finish", c.Name)
		}
		if findEvent(c.Events, "action", "null") != nil || findEvent(c.Events, "observation", "null") != nil {
			t.Errorf("client %s got a null event", c.Name)
		}
	}
	// Both clients saw every event the user sees (ids), whichever joined first.
	idsA, idsB := eventIDs(a.Events), eventIDs(b.Events)
	setB := map[int64]bool{}
	for _, id := range idsB {
		setB[id] = true
	}
	for _, id := range idsA {
		if !setB[id] {
			t.Errorf("client b missed event %d that a got (a %v, b %v)", id, idsA, idsB)
		}
	}
	if data, err := os.ReadFile(filepath.Join(srv.stateDir(t), "workspace", id, "hello.txt")); err != nil || string(data) != "hi" {
		t.Errorf("hello.txt in the workspace: %q %v", data, err)
	}

	// A reconnect from the run action's id gets only newer events.
	runID := int64(findEvent(a.Events, "action", "run")["id"].(float64))
	q2 := map[string]string{"conversation_id": id, "latest_event_id": fmt.Sprint(runID)}
	res = runClients(t, srv.url, clientSpec{Name: "c", Query: q2, Until: "finished", TimeoutMs: 10000})
	c := res["c"]
	if !c.Connected || c.Timeout {
		t.Fatalf("reconnect: %+v", c)
	}
	for _, eid := range eventIDs(c.Events) {
		if eid <= runID {
			t.Errorf("reconnect after %d got event %d", runID, eid)
		}
	}
	if findEvent(c.Events, "observation", "run") == nil {
		t.Errorf("reconnect missed the run observation: %v", c.Events)
	}
	if states := agentStates(c.Events); len(states) != 1 || states[0] != "finished" ||
		c.Events[len(c.Events)-1]["observation"] != "agent_state_changed" {
		t.Errorf("a replay sends only the latest agent state, last: %v", states)
	}

	// Refusals reach the client as connect_error with OpenHands' messages.
	res = runClients(t, srv.url,
		clientSpec{Name: "noid", Query: map[string]string{"latest_event_id": "-1"}},
		clientSpec{Name: "unknown", Query: map[string]string{"conversation_id": "0123456789abcdef0123456789abcdef"}},
	)
	if e := res["noid"].ConnectError; e == nil || e.Message != "No conversation_id in query params" {
		t.Errorf("no conversation id: %+v", res["noid"])
	}
	if e := res["unknown"].ConnectError; e == nil || e.Data["msg_id"] != "CONVERSATION$NOT_FOUND" {
		t.Errorf("unknown conversation: %+v", res["unknown"])
	}

	// close_delay = 1 s: with nobody connected and the agent not running, the loop closes.
	waitStatus(t, srv, id, "STOPPED", 15*time.Second)

	// A later join rehydrates it with the history intact and the sandbox's files still there.
	again := map[string]any{"action": "message", "args": map[string]any{"content": "what does hello.txt say?",
		"image_urls": []string{}, "file_urls": []string{}}}
	res = runClients(t, srv.url, clientSpec{Name: "d", Query: query, SendWhen: "awaiting_user_input",
		Send: []any{again}, Until: "finished"})
	d := res["d"]
	if !d.Connected || d.Timeout {
		t.Fatalf("rehydrate: connected %v timeout %v states %v", d.Connected, d.Timeout, agentStates(d.Events))
	}
	checkNoDuplicates(t, "d", eventIDs(d.Events))
	// Every earlier event is replayed but recall actions and superseded agent states (OpenHands).
	got := map[int64]bool{}
	for _, eid := range eventIDs(d.Events) {
		got[eid] = true
	}
	for _, ev := range a.Events {
		if id, ok := ev["id"].(float64); ok && !got[int64(id)] && ev["observation"] != "agent_state_changed" && ev["action"] != "recall" {
			t.Errorf("the rehydrated history lacks event %v (%v%v)", id, ev["action"], ev["observation"])
		}
	}
	var outs []string
	for _, ev := range d.Events {
		if ev["observation"] == "run" {
			outs = append(outs, fmt.Sprint(ev["content"]))
		}
	}
	if len(outs) < 2 || !strings.Contains(outs[len(outs)-1], "hi") {
		t.Errorf("after rehydration the sandbox should still have hello.txt: run outputs %q", outs)
	}

	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"gohands_active_conversations 1", "gohands_events_appended_total{source=\"user\"}",
		"gohands_agent_steps_total", "gohands_sandbox_start_seconds_count{kind=\"local\"} 2", "gohands_socket_connections"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func (s *servedGohands) stateDir(t *testing.T) string {
	for i, a := range s.cmd.Args {
		if a == "--state-dir" {
			return s.cmd.Args[i+1]
		}
	}
	t.Fatal("no --state-dir")
	return ""
}

// waitStatus polls GET /api/conversations/{id} until its status is want.
func waitStatus(t *testing.T, s *servedGohands, id, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var info map[string]any
	for time.Now().Before(deadline) {
		info = nil
		s.do("GET", "/api/conversations/"+id, nil, &info)
		if info != nil && info["status"] == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("conversation %s never reached %s: %v", id, want, info)
}

// TestServeSocketChurn: hundreds of clients connect and are dropped abruptly (their process is
// killed: no close frames), then hundreds more connect; every one must succeed.
func TestServeSocketChurn(t *testing.T) {
	mods := nodeModules(t)
	llm := llmtest.NewOpenAIServer(t, nil)
	srv := startServe(t, t.TempDir(), "")
	settings := map[string]any{"llm_model": "openai/gpt-4o", "llm_api_key": "sk-test", "llm_base_url": llm.URL}
	if code := srv.do("POST", "/api/settings", settings, nil); code != 200 {
		t.Fatalf("settings: %d", code)
	}
	var created map[string]any
	if code := srv.do("POST", "/api/conversations", map[string]any{}, &created); code != 200 {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["conversation_id"].(string)
	query := map[string]string{"conversation_id": id, "latest_event_id": "-1"}
	const n = 300
	clients := make([]clientSpec, n)
	for i := range clients {
		clients[i] = clientSpec{Name: fmt.Sprint("held", i), Query: query, TimeoutMs: 30000}
	}

	// Phase 1: a node process holds n connections, then is killed.
	spec, _ := json.Marshal(map[string]any{"url": srv.url, "clients": clients, "hold": true, "summary": true})
	held := exec.Command("node", filepath.Join("testdata", "sioclient.cjs"), string(spec))
	held.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := held.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"ready"`) {
				ready <- true
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		held.Process.Kill()
		held.Wait()
		t.Fatalf("the first %d clients did not all connect; server log:\n%s", n, srv.logs)
	}
	var info map[string]any
	srv.do("GET", "/api/conversations/"+id, nil, &info)
	if got := info["num_connections"]; got != float64(n) {
		t.Errorf("num_connections with %d clients held: %v", n, got)
	}
	held.Process.Kill()
	held.Wait()

	// Phase 2: n fresh clients all connect.
	for i := range clients {
		clients[i] = clientSpec{Name: fmt.Sprint("fresh", i), Query: query, Until: "connect", TimeoutMs: 30000}
	}
	res := runClientsSpec(t, map[string]any{"url": srv.url, "clients": clients, "summary": true})
	failed := 0
	for _, r := range res {
		if !r.Connected {
			failed++
		}
	}
	if len(res) != n || failed > 0 {
		t.Fatalf("after %d abrupt disconnects, %d of %d connects failed (results %d)", n, failed, n, len(res))
	}
}

// containerState is the state of a container ("" when it does not exist).
func containerState(name string) string {
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestServeDockerLifecycle: in the Docker sandbox a conversation's container runs while its loop
// does, is stopped by /stop (kept for later), comes back with its files on the next join, and is
// removed by DELETE.
func TestServeDockerLifecycle(t *testing.T) {
	if os.Getenv("GOHANDS_SKIP_DOCKER") == "1" {
		t.Skip("GOHANDS_SKIP_DOCKER=1")
	}
	if err := exec.Command("docker", "image", "inspect", "gohands-test-sandbox:latest").Run(); err != nil {
		t.Fatalf("the Docker test image is missing or no engine answers (%v): start dockerd and run bash testdata/sandbox-image/build.sh, or set GOHANDS_SKIP_DOCKER=1", err)
	}
	nodeModules(t)
	llm := llmtest.NewOpenAIServer(t, []llmtest.Turn{
		llmtest.Call("execute_bash", `{"command": "printf hi > /workspace/hello.txt"}`),
		llmtest.Call("finish", `{"message": "Created hello.txt.", "task_completed": "true"}`),
		llmtest.Call("execute_bash", `{"command": "cat /workspace/hello.txt"}`),
		llmtest.Call("finish", `{"message": "It says hi.", "task_completed": "true"}`),
	})
	srv := startServe(t, t.TempDir(), "[sandbox]\nbase_container_image = \"gohands-test-sandbox:latest\"\nnetwork = \"none\"\n",
		"--runtime", "docker")
	settings := map[string]any{"llm_model": "openai/gpt-4o", "llm_api_key": "sk-test", "llm_base_url": llm.URL}
	if code := srv.do("POST", "/api/settings", settings, nil); code != 200 {
		t.Fatalf("settings: %d", code)
	}
	var created map[string]any
	if code := srv.do("POST", "/api/conversations", map[string]any{"initial_user_msg": "create hello.txt"}, &created); code != 200 {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["conversation_id"].(string)
	name := "openhands-runtime-" + id
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	query := map[string]string{"conversation_id": id, "latest_event_id": "-1"}
	res := runClients(t, srv.url, clientSpec{Name: "a", Query: query, Until: "finished"})
	if a := res["a"]; !a.Connected || a.Timeout || findEvent(a.Events, "action", "finish") == nil {
		t.Fatalf("first task: %+v\nserver log:\n%s", a.ConnectError, srv.logs)
	}
	if st := containerState(name); st != "running" {
		t.Fatalf("container %s is %q while its loop runs", name, st)
	}
	var stopped map[string]any
	srv.do("POST", "/api/conversations/"+id+"/stop", nil, &stopped)
	if stopped["message"] != "Conversation stopped successfully" {
		t.Errorf("stop: %v", stopped)
	}
	if st := containerState(name); st != "exited" {
		t.Fatalf("after stop the container is %q, want exited (kept for later)", st)
	}

	again := map[string]any{"action": "message", "args": map[string]any{"content": "what does it say?", "image_urls": []string{}}}
	// Sent at once, while the sandbox is still starting: held until the agent listens, then answered.
	res = runClients(t, srv.url, clientSpec{Name: "b", Query: query, Send: []any{again}, Until: "finished"})
	b := res["b"]
	var last string
	for _, ev := range b.Events {
		if ev["observation"] == "run" {
			last = fmt.Sprint(ev["content"])
		}
	}
	if !b.Connected || b.Timeout || !strings.Contains(last, "hi") {
		t.Fatalf("after the restart the file should be there: last output %q (%+v)", last, b.ConnectError)
	}

	var deleted bool
	if code := srv.do("DELETE", "/api/conversations/"+id, nil, &deleted); code != 200 || !deleted {
		t.Fatalf("delete: %d %v", code, deleted)
	}
	if st := containerState(name); st != "" {
		t.Errorf("after delete the container is still there (%s)", st)
	}
}
