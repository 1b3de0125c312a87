package memory

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles writes files (slash-separated path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		fileName string // "" → the front matter's name
		want     Microagent
	}{
		{
			name: "knowledge",
			text: "---\nname: github\ntype: knowledge\ntriggers:\n- GitHub\n- git\n---\n\nUse the API.\n",
			want: Microagent{Name: "github", Type: TypeKnowledge, Content: "Use the API.",
				Triggers: []string{"GitHub", "git"}, Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name: "triggers make knowledge whatever the type says",
			text: "---\ntype: repo\ntriggers: [npm]\n---\nbody",
			want: Microagent{Name: "default", Type: TypeKnowledge, Content: "body",
				Triggers: []string{"npm"}, Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name: "no front matter is repo",
			text: "\n  Run make test before committing.\n\n",
			want: Microagent{Name: "default", Type: TypeRepo, Content: "Run make test before committing.",
				Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name:     "front matter without triggers is repo; the file name wins",
			text:     "---\nname: ignored\nversion: 2\nagent: Other\n---\nRules.",
			fileName: "repo",
			want:     Microagent{Name: "repo", Type: TypeRepo, Content: "Rules.", Version: "2", Agent: "Other"},
		},
		{
			name: "inputs make a task with a slash trigger",
			text: "---\nname: fix\ninputs:\n- name: ISSUE\n  description: the issue\n---\nFix ${ISSUE}.",
			want: Microagent{Name: "fix", Type: TypeTask, Content: "Fix ${ISSUE}." + missingInputsNote,
				Triggers: []string{"/fix"}, Inputs: []Input{{Name: "ISSUE", Description: "the issue"}},
				Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name: "unclosed front matter is all content",
			text: "---\nname: x\nno end",
			want: Microagent{Name: "default", Type: TypeRepo, Content: "---\nname: x\nno end",
				Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name: "a header that is not a mapping keeps the defaults",
			text: "-----  \njust a rule\n---\nbody\n---\nmore",
			want: Microagent{Name: "default", Type: TypeRepo, Content: "body\n---\nmore",
				Version: "1.0.0", Agent: "CodeActAgent"},
		},
		{
			name: "mcp tools",
			text: "---\ntriggers: [fetch]\nmcp_tools:\n  sse_servers: [\"http://x\"]\n  stdio_servers:\n  - name: fetch\n    command: uvx\n    args: [mcp-server-fetch]\n---\nb",
			want: Microagent{Name: "default", Type: TypeKnowledge, Content: "b", Triggers: []string{"fetch"},
				MCPTools: &MCPTools{
					SSEServers:   []MCPRemoteServer{{URL: "http://x"}},
					StdioServers: []MCPStdioServer{{Name: "fetch", Command: "uvx", Args: []string{"mcp-server-fetch"}}},
				},
				Version: "1.0.0", Agent: "CodeActAgent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("dir/f.md", tt.fileName, []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Source = "dir/f.md"
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"bad type", "---\ntype: skill\n---\nx", `invalid "type" value "skill"`},
		{"bad yaml", "---\ntriggers: [a\n---\nx", "front matter"},
		{"triggers not a list", "---\ntriggers: git\n---\nx", "front matter"},
		{"input without description", "---\ninputs:\n- name: A\n---\nx", "inputs[0]"},
		{"mcp tools without stdio", "---\nmcp_tools:\n  sse_servers: [\"http://x\"]\n---\nx", "no stdio servers"},
		{"stdio server without command", "---\nmcp_tools:\n  stdio_servers: [{name: a}]\n---\nx", "stdio_servers[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/ws/.openhands/microagents/bad.md", "bad", []byte(tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "/ws/.openhands/microagents/bad.md") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q should name the file and say %q", err, tt.wantErr)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	m := &Microagent{Type: TypeKnowledge, Triggers: []string{"Kubernetes", "k8s", "kube"}}
	tests := []struct {
		query, want string
	}{
		{"deploy to KUBE with k8s", "k8s"},  // the first declared trigger that occurs, not the first in the text
		{"set up kubernetes", "Kubernetes"}, // spelled as declared
		{"docker only", ""},
	}
	for _, tt := range tests {
		got, ok := m.Match(tt.query)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.query, got, ok, tt.want)
		}
	}
	repo := &Microagent{Type: TypeRepo, Triggers: []string{"x"}}
	if _, ok := repo.Match("x"); ok {
		t.Error("a repo microagent matched")
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"micro/tools/docker.md": "---\ntriggers: [docker]\n---\nUse docker.",
		"micro/repo.md":         "Repo rules.",
		"micro/README.md":       "not a microagent",
		"micro/tools/README.md": "not one either",
		"micro/notes.txt":       "not markdown",
		"micro/broken.md":       "---\ntype: nope\n---\nx",
		"outside.md":            "---\ntriggers: [x]\n---\noutside",
	})
	agents, err := LoadDir(context.Background(), DirWorkspace(dir), "micro")
	if err == nil || !strings.Contains(err.Error(), "micro/broken.md") {
		t.Errorf("error %v should name micro/broken.md", err)
	}
	var names []string
	for _, a := range agents {
		names = append(names, a.Name+"@"+a.Source)
	}
	want := []string{"repo@micro/repo.md", "tools/docker@micro/tools/docker.md"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("loaded %v, want %v", names, want)
	}

	agents, err = LoadDir(context.Background(), DirWorkspace(dir), "missing")
	if err != nil || len(agents) != 0 {
		t.Errorf("missing dir: %v, %v", agents, err)
	}
	agents, err = LoadDir(context.Background(), DirWorkspace(filepath.Join(dir, "nothing")), "")
	if err != nil || len(agents) != 0 {
		t.Errorf("missing root: %v, %v", agents, err)
	}
}

func TestDirWorkspaceStaysInside(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"secret.md": "---\ntriggers: [x]\n---\nsecret", "ws/ok.md": "ok"})
	if err := os.Symlink(filepath.Join(dir, "secret.md"), filepath.Join(dir, "ws", "link.md")); err != nil {
		t.Fatal(err)
	}
	ws := DirWorkspace(filepath.Join(dir, "ws"))
	ctx := context.Background()
	if _, err := ws.ReadFile(ctx, "../secret.md"); err == nil {
		t.Error("read a file outside the workspace through ..")
	}
	if _, err := ws.ReadFile(ctx, "link.md"); err == nil {
		t.Error("read a file outside the workspace through a symlink")
	}
	if data, err := ws.ReadFile(ctx, "/ok.md"); err != nil || string(data) != "ok" {
		t.Errorf("ReadFile(/ok.md) = %q, %v", data, err)
	}
	if _, err := ws.ReadFile(ctx, "missing.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	agents, err := LoadDir(ctx, ws, ".")
	if err == nil || !strings.Contains(err.Error(), "link.md") || len(agents) != 1 || agents[0].Name != "ok" {
		t.Errorf("LoadDir: %v, %v", agents, err)
	}
}
