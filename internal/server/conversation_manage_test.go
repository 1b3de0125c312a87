package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// seedConversation stores metadata created at the given time.
func (f *fixture) seedConversation(id string, created time.Time, edit func(*storage.ConversationMetadata)) {
	f.t.Helper()
	title := session.DefaultTitle(id)
	trigger := "gui"
	md := &storage.ConversationMetadata{ConversationID: id, Title: &title, Trigger: &trigger, CreatedAt: created.UTC()}
	if edit != nil {
		edit(md)
	}
	if err := f.store.CreateConversation(md); err != nil {
		f.t.Fatal(err)
	}
}

func strp(s string) *string { return &s }

// newConvFixture is newFixture without rate limiting: these tests send many requests at once.
func newConvFixture(t *testing.T, opts Options) *fixture {
	f := newFixture(t, opts)
	f.srv.limiter = newRateLimiter(1e9, 1e9, time.Now)
	return f
}

func listIDs(t *testing.T, body string) ([]string, *string) {
	t.Helper()
	var res struct {
		Results []struct {
			ConversationID string `json:"conversation_id"`
		} `json:"results"`
		NextPageID *string `json:"next_page_id"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var ids []string
	for _, r := range res.Results {
		ids = append(ids, r.ConversationID)
	}
	return ids, res.NextPageID
}

func TestConversationGetAndList(t *testing.T) {
	now := time.Now()
	f := newConvFixture(t, Options{})
	f.expect("GET", "/api/conversations", "", 200, `{"results":[],"next_page_id":null}`)

	created := time.Date(2025, 7, 30, 10, 12, 1, 4211000, time.UTC)
	updated := time.Date(2025, 7, 30, 10, 12, 44, 512301000, time.UTC)
	f.srv.now = func() time.Time { return created.Add(time.Hour) }
	f.seedConversation("3f6c0d0e8b6a4d0f9a3e2b1c4d5e6f70", created, func(md *storage.ConversationMetadata) {
		md.LastUpdatedAt = &updated
		md.SelectedRepository = strp("octo/hello")
		md.PRNumber = []int{7}
	})
	f.expect("GET", "/api/conversations/3f6c0d0e8b6a4d0f9a3e2b1c4d5e6f70", "", 200,
		`{"conversation_id":"3f6c0d0e8b6a4d0f9a3e2b1c4d5e6f70","title":"Conversation 3f6c0",`+
			`"last_updated_at":"2025-07-30T10:12:44.512301Z","status":"STOPPED","runtime_status":null,`+
			`"selected_repository":"octo/hello","selected_branch":null,"git_provider":null,"trigger":"gui","num_connections":0,`+
			`"url":null,"session_api_key":null,"created_at":"2025-07-30T10:12:01.004211Z","pr_number":[7]}`)
	// Unknown and invalid ids read as null, as the UI expects.
	f.expect("GET", "/api/conversations/00000000000000000000000000000000", "", 200, `null`)
	f.expect("GET", "/api/conversations/not%20an%20id", "", 200, `null`)

	// An empty stored title reads as the default one.
	f.seedConversation("aaaaaaaa000000000000000000000001", created, func(md *storage.ConversationMetadata) { md.Title = strp("") })
	if body := f.expect("GET", "/api/conversations/aaaaaaaa000000000000000000000001", "", 200, ""); !strings.Contains(body, `"title":"Conversation aaaaa"`) {
		t.Errorf("empty title: %s", body)
	}

	// Paging, filters and the age limit.
	f = newConvFixture(t, Options{})
	f.srv.now = func() time.Time { return now }
	for i, id := range []string{"c0", "c1", "c2", "c3", "c4"} {
		f.seedConversation(id, now.Add(-time.Duration(i)*time.Minute), func(md *storage.ConversationMetadata) {
			if i%2 == 1 {
				md.SelectedRepository = strp("octo/repo")
				md.Trigger = strp("microagent_management")
			}
		})
	}
	f.seedConversation("old", now.Add(-11*24*time.Hour), nil)
	ids, next := listIDs(t, f.expect("GET", "/api/conversations?limit=2", "", 200, ""))
	if strings.Join(ids, ",") != "c0,c1" || next == nil || *next != "Mg==" {
		t.Fatalf("page 1: %v %v", ids, next)
	}
	ids, next = listIDs(t, f.expect("GET", "/api/conversations?limit=2&page_id=Mg==", "", 200, ""))
	if strings.Join(ids, ",") != "c2,c3" || next == nil || *next != "NA==" {
		t.Fatalf("page 2: %v %v", ids, next)
	}
	// The last page holds c4 and the old conversation, which the age filter drops after paging.
	ids, next = listIDs(t, f.expect("GET", "/api/conversations?limit=2&page_id=NA==", "", 200, ""))
	if strings.Join(ids, ",") != "c4" || next != nil {
		t.Fatalf("page 3: %v %v", ids, next)
	}
	ids, _ = listIDs(t, f.expect("GET", "/api/conversations?limit=1000&selected_repository=octo/repo&conversation_trigger=microagent_management", "", 200, ""))
	if strings.Join(ids, ",") != "c1,c3" {
		t.Fatalf("filtered: %v", ids)
	}
	ids, _ = listIDs(t, f.expect("GET", "/api/conversations", "", 200, ""))
	if strings.Join(ids, ",") != "c0,c1,c2,c3,c4" {
		t.Fatalf("default page: %v", ids)
	}
	if body := f.expect("GET", "/api/conversations/old", "", 200, ""); !strings.Contains(body, `"conversation_id":"old"`) {
		t.Errorf("an old conversation stays reachable by id: %s", body)
	}

	f.expect("GET", "/api/conversations?conversation_trigger=cron", "", 422,
		`{"detail":[{"type":"enum","loc":["query","conversation_trigger"],"msg":"Input should be 'resolver', 'gui', 'suggested_task', 'openhands_api', 'slack' or 'microagent_management'","input":"cron","ctx":{"expected":"'resolver', 'gui', 'suggested_task', 'openhands_api', 'slack' or 'microagent_management'"}}]}`)
	f.expect("GET", "/api/conversations?limit=ten", "", 422,
		`{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"ten"}]}`)
	f.expect("GET", "/api/conversations?limit=0", "", 422, "")
	f.expect("GET", "/api/conversations?page_id=%21%21", "", 400, `{"detail":"Invalid page_id"}`)
	f.expect("GET", "/api/conversations?page_id=bm90IGEgbnVtYmVy", "", 400, `{"detail":"Invalid page_id"}`)
}

func TestConversationRename(t *testing.T) {
	f := newConvFixture(t, Options{})
	at := time.Date(2025, 8, 1, 12, 0, 0, 0, time.UTC)
	f.srv.now = func() time.Time { return at }
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, at.Add(-time.Hour), nil)
	path := "/api/conversations/" + id

	f.expect("PATCH", path, `{"title":`, 400, `{"detail":"Invalid JSON: unexpected end of JSON input"}`)
	f.expect("PATCH", path, `{"title":"x","color":"red"}`, 422,
		`{"detail":[{"type":"extra_forbidden","loc":["body","color"],"msg":"Extra inputs are not permitted","input":"red"}]}`)
	f.expect("PATCH", path, `{}`, 422, `{"detail":[{"type":"missing","loc":["body","title"],"msg":"Field required","input":{}}]}`)
	f.expect("PATCH", path, ``, 422, `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`)
	f.expect("PATCH", path, `{"title":3}`, 422, `{"detail":[{"type":"string_type","loc":["body","title"],"msg":"Input should be a valid string","input":3}]}`)
	f.expect("PATCH", path, `{"title":""}`, 422,
		`{"detail":[{"type":"string_too_short","loc":["body","title"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}}]}`)
	long := strings.Repeat("é", 201)
	f.expect("PATCH", path, `{"title":"`+long+`"}`, 422, "")
	f.expect("PATCH", path, `{"title":"`+long[:400]+`"}`, 200, `true`) // 200 characters
	f.expect("PATCH", path, `[1]`, 422, "")
	f.expect("PATCH", "/api/conversations/ffffffffffffffffffffffffffffffff", `{"title":"x"}`, 404,
		`{"status":"error","message":"Conversation not found","msg_id":"CONVERSATION$NOT_FOUND"}`)

	f.expect("PATCH", path, `{"title":"  My task  "}`, 200, `true`)
	body := f.expect("GET", path, "", 200, "")
	if !strings.Contains(body, `"title":"My task"`) || !strings.Contains(body, `"last_updated_at":"2025-08-01T12:00:00Z"`) {
		t.Errorf("after rename: %s", body)
	}
	// A blank title is stored empty and reads back as the default.
	f.expect("PATCH", path, `{"title":"   "}`, 200, `true`)
	if body := f.expect("GET", path, "", 200, ""); !strings.Contains(body, `"title":"Conversation 01234"`) {
		t.Errorf("blank title: %s", body)
	}
}

// Without a conversation manager the storage-backed routes answer and the others say why not.
func TestConversationsWithoutManager(t *testing.T) {
	f := newConvFixture(t, Options{})
	id := "0123456789abcdef0123456789abcdef"
	f.seedConversation(id, time.Now(), nil)
	unavailable := `{"error":"conversations are not available"}`
	f.expect("POST", "/api/conversations", `{}`, 503, unavailable)
	f.expect("POST", "/api/conversations/"+id+"/start", `{}`, 503, unavailable)
	f.expect("DELETE", "/api/conversations/"+id, "", 503, unavailable)
	f.expect("POST", "/api/conversations/"+id+"/events", `{"action":"message","args":{"content":"hi"}}`, 503, unavailable)
	f.expect("GET", "/api/conversations/"+id+"/microagents", "", 503, unavailable)
	f.expect("GET", "/api/conversations/"+id+"/list-files", "", 503, unavailable)
	f.expect("GET", "/api/conversations/"+id+"/git/changes", "", 503, unavailable)

	// Unknown ids answer as OpenHands does, manager or not.
	f.expect("DELETE", "/api/conversations/ffffffffffffffffffffffffffffffff", "", 200, `false`)
	f.expect("POST", "/api/conversations/"+id+"/stop", "", 200,
		`{"status":"ok","conversation_id":"`+id+`","message":"Conversation was not running","conversation_status":"STOPPED"}`)
	f.expect("POST", "/api/conversations/ffffffffffffffffffffffffffffffff/stop", "", 200,
		`{"status":"ok","conversation_id":"ffffffffffffffffffffffffffffffff","message":"Conversation was not running","conversation_status":"STOPPED"}`)

	f.expect("GET", "/api/conversations/"+id+"/config", "", 200, `{"runtime_id":null,"session_id":"`+id+`"}`)
	f.expect("GET", "/api/conversations/"+id+"/vscode-url", "", 200, `{"vscode_url":null}`)
	f.expect("GET", "/api/conversations/"+id+"/web-hosts", "", 200, `{"hosts":{}}`)
	missing := "/api/conversations/ffffffffffffffffffffffffffffffff"
	notFound := `{"detail":"Conversation ffffffffffffffffffffffffffffffff not found"}`
	for _, p := range []string{"/config", "/vscode-url", "/web-hosts", "/events", "/trajectory"} {
		f.expect("GET", missing+p, "", 404, notFound)
	}
}
