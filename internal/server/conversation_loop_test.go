package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/storage"
)

// newManagedFixture serves a store through a real standalone conversation manager. edit adjusts
// the manager's options (sandboxes, events-only sessions) before it is made.
func newManagedFixture(t *testing.T, opts Options, edit func(*conversation.Options)) (*fixture, *conversation.Standalone) {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	mopts := conversation.Options{Config: cfg, Store: store}
	if edit != nil {
		edit(&mopts)
	}
	mgr := conversation.NewStandalone(mopts)
	mgr.Start()
	opts.Conversations = mgr
	srv := New(cfg, store, opts)
	srv.limiter = newRateLimiter(1e9, 1e9, time.Now)
	ts := newTestServer(t, srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := mgr.Close(ctx); err != nil {
			t.Errorf("close the manager: %v", err)
		}
	})
	return &fixture{t: t, srv: srv, ts: ts, store: store}, mgr
}

func newTestServer(t *testing.T, srv *Server) *httptest.Server {
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func (f *fixture) saveSettings(key string) { f.saveLLMSettings(key, "") }

// saveLLMSettings saves settings for openai/gpt-4o with key, served at baseURL when it is set.
func (f *fixture) saveLLMSettings(key, baseURL string) {
	f.t.Helper()
	st := storage.NewSettings()
	st.LLMModel, st.LLMAPIKey = strp("openai/gpt-4o"), strp(key)
	if baseURL != "" {
		st.LLMBaseURL = strp(baseURL)
	}
	if err := f.store.SaveSettings(st); err != nil {
		f.t.Fatal(err)
	}
}

var createdBody = regexp.MustCompile(`^\{"status":"ok","conversation_id":"([0-9a-f]{32})","message":null,"conversation_status":"STARTING"\}$`)

// create posts a new conversation and returns its id.
func (f *fixture) create(body string) string {
	f.t.Helper()
	got := strings.TrimSpace(f.expect("POST", "/api/conversations", body, 200, ""))
	m := createdBody.FindStringSubmatch(got)
	if m == nil {
		f.t.Fatalf("create answered %s", got)
	}
	return m[1]
}

// waitStatus polls GET /api/conversations/{id} until its status is want.
func (f *fixture) waitStatus(id, want string) map[string]any {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var info map[string]any
		body := f.expect("GET", "/api/conversations/"+id, "", 200, "")
		if err := json.Unmarshal([]byte(body), &info); err != nil {
			f.t.Fatal(err)
		}
		if info["status"] == want {
			return info
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("conversation %s did not become %s: %s", id, want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCreateConversationRefusals(t *testing.T) {
	f, _ := newManagedFixture(t, Options{}, func(o *conversation.Options) { o.EventsOnly = true })
	f.expect("POST", "/api/conversations", `{}`, 400,
		`{"status":"error","message":"Settings not found","msg_id":"CONFIGURATION$SETTINGS_NOT_FOUND"}`)
	f.saveSettings("  ")
	f.expect("POST", "/api/conversations", `{}`, 400,
		`{"status":"error","message":"Error authenticating with the LLM provider. Please check your API key","msg_id":"STATUS$ERROR_LLM_AUTHENTICATION"}`)
	f.saveSettings("sk-test")

	f.expect("POST", "/api/conversations", `{"initial_user_msg":"hi",`, 400, `{"detail":"Invalid JSON: unexpected end of JSON input"}`)
	f.expect("POST", "/api/conversations", ``, 422, `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`)
	f.expect("POST", "/api/conversations", `{"initial_user_msg":"hi","model":"gpt","conversation_id":"abc"}`, 422,
		`{"detail":[{"type":"extra_forbidden","loc":["body","model"],"msg":"Extra inputs are not permitted","input":"gpt"},`+
			`{"type":"extra_forbidden","loc":["body","conversation_id"],"msg":"Extra inputs are not permitted","input":"abc"}]}`)
	f.expect("POST", "/api/conversations", `{"git_provider":"sourcehut"}`, 422,
		`{"detail":[{"type":"enum","loc":["body","git_provider"],"msg":"Input should be 'github', 'gitlab' or 'bitbucket'","input":"sourcehut","ctx":{"expected":"'github', 'gitlab' or 'bitbucket'"}}]}`)
	f.expect("POST", "/api/conversations", `{"image_urls":"x"}`, 422,
		`{"detail":[{"type":"list_type","loc":["body","image_urls"],"msg":"Input should be a valid list","input":"x"}]}`)
	f.expect("POST", "/api/conversations", `{"suggested_task":{"repo":"octo/hello"}}`, 422, "")
	f.expect("POST", "/api/conversations", `{"repository":"octo/hello"}`, 400,
		`{"status":"error","message":"Unable to access repo octo/hello","msg_id":"STATUS$GIT_PROVIDER_AUTHENTICATION_ERROR"}`)
	if list, _ := f.store.ListConversations(); len(list) != 0 {
		t.Errorf("refused creations stored %d conversations", len(list))
	}
}

func TestConversationLifecycleEventsOnly(t *testing.T) {
	f, _ := newManagedFixture(t, Options{AllowSetConversationID: true}, func(o *conversation.Options) { o.EventsOnly = true })
	f.saveSettings("sk-test")

	id := f.create(`{"initial_user_msg":"hello","image_urls":[]}`)
	md, err := f.store.GetConversation(id)
	if err != nil {
		t.Fatal(err)
	}
	if deref(md.Title) != "Conversation "+id[:5] || deref(md.Trigger) != "gui" || deref(md.LLMModel) != "openai/gpt-4o" ||
		md.SelectedRepository != nil || time.Since(md.CreatedAt) > time.Minute {
		t.Errorf("metadata %+v", md)
	}
	info := f.waitStatus(id, "RUNNING")
	if info["url"] != "/api/conversations/"+id || info["num_connections"] != 0.0 {
		t.Errorf("running conversation info %v", info)
	}
	if body := f.expect("GET", "/api/conversations", "", 200, ""); !strings.Contains(body, `"status":"RUNNING"`) {
		t.Errorf("list does not show the loop running: %s", body)
	}

	// Events go to the running loop, and read back from the shared stream.
	ev := "/api/conversations/" + id + "/events"
	f.expect("POST", ev, `{"action":"message","args":{"content":"a question"}}`, 200, `{"success":true}`)
	if body := f.expect("GET", ev, `{"query":"a question","source":"user"}`, 200, ""); !strings.Contains(body, `"content":"a question"`) {
		t.Errorf("the sent message is not among the events: %s", body)
	}
	f.expect("POST", ev, `{"id":3,"action":"message","args":{"content":"x"}}`, 400, "")
	f.expect("POST", ev, `{"action":`, 400, `{"detail":"Invalid JSON: unexpected end of JSON input"}`)
	f.expect("POST", ev, `[1]`, 422, "")
	f.expect("POST", "/api/conversations/ffffffffffffffffffffffffffffffff/events", `{"action":"message","args":{"content":"x"}}`, 404, "")
	f.expect("GET", "/api/conversations/"+id+"/microagents", "", 404, `{"error":"Memory is not yet initialized for this conversation"}`)

	// Start on a running loop reports it running; bodies are checked first.
	start := "/api/conversations/" + id + "/start"
	f.expect("POST", start, ``, 422, `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`)
	f.expect("POST", start, `{"providers_set":["github","svn"]}`, 422, "")
	f.expect("POST", start, `{"providers_set":null,"extra":1}`, 200,
		`{"status":"ok","conversation_id":"`+id+`","message":null,"conversation_status":"RUNNING"}`)
	f.expect("POST", "/api/conversations/ffffffffffffffffffffffffffffffff/start", `{}`, 404,
		`{"status":"error","conversation_id":"ffffffffffffffffffffffffffffffff"}`)

	// Stop reports the status it stopped; a second stop finds nothing running.
	stop := "/api/conversations/" + id + "/stop"
	f.expect("POST", stop, "", 200, `{"status":"ok","conversation_id":"`+id+`","message":"Conversation stopped successfully","conversation_status":"RUNNING"}`)
	f.expect("POST", stop, "", 200, `{"status":"ok","conversation_id":"`+id+`","message":"Conversation was not running","conversation_status":"STOPPED"}`)
	f.waitStatus(id, "STOPPED")
	f.expect("POST", ev, `{"action":"message","args":{"content":"late"}}`, 409, "")
	f.expect("GET", "/api/conversations/"+id+"/microagents", "", 404, `{"error":"Agent session not found for this conversation"}`)

	// Start again; without settings it fails as OpenHands words it.
	f.expect("POST", start, `{"providers_set":["github"]}`, 200, `{"status":"ok","conversation_id":"`+id+`","message":null,"conversation_status":"STARTING"}`)
	f.waitStatus(id, "RUNNING")
	f.expect("POST", stop, "", 200, "")
	if err := f.store.DeleteSettings(); err != nil {
		t.Fatal(err)
	}
	f.expect("POST", start, `{}`, 500, `{"status":"error","conversation_id":"`+id+`","message":"Failed to start conversation: Settings not found"}`)
	f.saveSettings("sk-test")

	// A client-chosen id, allowed by the option.
	f.expect("POST", "/api/conversations", `{"conversation_id":"../x"}`, 422, "")
	f.expect("POST", "/api/conversations", `{"conversation_id":"my-conversation"}`, 200,
		`{"status":"ok","conversation_id":"my-conversation","message":null,"conversation_status":"STARTING"}`)

	// Delete stops the loop and removes everything.
	f.waitStatus("my-conversation", "RUNNING")
	f.expect("DELETE", "/api/conversations/my-conversation", "", 200, `true`)
	f.expect("GET", "/api/conversations/my-conversation", "", 200, `null`)
	f.expect("DELETE", "/api/conversations/my-conversation", "", 200, `false`)
	f.expect("GET", "/api/conversations/my-conversation/events", "", 404, "")
	f.expect("DELETE", "/api/conversations/"+id, "", 200, `true`)
	if list, _ := f.store.ListConversations(); len(list) != 0 {
		t.Errorf("%d conversations left after deleting them all", len(list))
	}
}

func TestCreateConversationTriggers(t *testing.T) {
	f, _ := newManagedFixture(t, Options{}, func(o *conversation.Options) { o.EventsOnly = true })
	f.saveSettings("sk-test")
	f.expect("POST", "/api/add-git-providers", `{"provider_tokens":{"github":{"token":"ghp_x","host":"github.com"}}}`, 200, "")

	// The stored token stands for access; only that provider's.
	f.expect("POST", "/api/conversations", `{"repository":"octo/hello","git_provider":"gitlab"}`, 400, "")
	id := f.create(`{"repository":"octo/hello","git_provider":"github","selected_branch":"main","conversation_instructions":"be brief"}`)
	md, _ := f.store.GetConversation(id)
	if deref(md.SelectedRepository) != "octo/hello" || deref(md.SelectedBranch) != "main" || deref(md.GitProvider) != "github" || deref(md.Trigger) != "gui" {
		t.Errorf("repository conversation %+v", md)
	}

	id = f.create(`{"create_microagent":{"repo":"octo/tools","git_provider":"github","title":"Add a microagent"}}`)
	md, _ = f.store.GetConversation(id)
	if deref(md.SelectedRepository) != "octo/tools" || deref(md.GitProvider) != "github" || deref(md.Trigger) != "microagent_management" {
		t.Errorf("microagent conversation %+v", md)
	}
	body := f.expect("GET", "/api/conversations?limit=1000&selected_repository=octo/tools&conversation_trigger=microagent_management", "", 200, "")
	if ids, _ := listIDs(t, body); len(ids) != 1 || ids[0] != id {
		t.Errorf("microagent conversations listed: %s", body)
	}

	task := `{"git_provider":"github","task_type":"%s","repo":"octo/hello","issue_number":12,"title":"Crash on start"}`
	id = f.create(`{"repository":"octo/hello","suggested_task":` + strings.Replace(task, "%s", "OPEN_ISSUE", 1) + `}`)
	md, _ = f.store.GetConversation(id)
	if deref(md.Trigger) != "suggested_task" {
		t.Errorf("suggested task conversation %+v", md)
	}
	f.expect("POST", "/api/conversations", `{"suggested_task":`+strings.Replace(task, "%s", "OPEN_PR", 1)+`}`, 400, "")
	f.expect("POST", "/api/conversations", `{"suggested_task":`+strings.Replace(task, "%s", "REFACTOR", 1)+`}`, 422, "")
}
