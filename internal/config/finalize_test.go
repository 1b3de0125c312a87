package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestWorkspaceMounts(t *testing.T) {
	cwd := t.TempDir()
	for _, tc := range []struct {
		name                 string
		toml                 string
		base, mountPath      string
		mounts               []Mount
		deprecationWarnCount int
	}{
		{
			name:   "volumes with workspace",
			toml:   "[sandbox]\nvolumes = \"proj:/workspace, ~/data:/data:ro,\"\n",
			base:   filepath.Join(cwd, "proj"),
			mounts: []Mount{{Host: filepath.Join(cwd, "proj"), Container: "/workspace"}, {Host: "/home/tester/data", Container: "/data", ReadOnly: true}},
		},
		{
			name:   "volumes without workspace clear the legacy keys",
			toml:   "[core]\nworkspace_base = \"/old\"\n[sandbox]\nvolumes = \"/cache:/root/.cache\"\n",
			mounts: []Mount{{Host: "/cache", Container: "/root/.cache"}},
		},
		{
			name:                 "legacy workspace_base",
			toml:                 "[core]\nworkspace_base = \"./ws\"\n",
			base:                 filepath.Join(cwd, "ws"),
			mountPath:            filepath.Join(cwd, "ws"),
			mounts:               []Mount{{Host: filepath.Join(cwd, "ws"), Container: "/workspace"}},
			deprecationWarnCount: 1,
		},
		{
			name:                 "legacy rewrite",
			toml:                 "[core]\nworkspace_base = \"/home/me/src\"\nworkspace_mount_rewrite = \"/home/me:/mnt/me\"\nworkspace_mount_path_in_sandbox = \"/src\"\n",
			base:                 "/home/me/src",
			mountPath:            "/mnt/me/src",
			mounts:               []Mount{{Host: "/mnt/me/src", Container: "/src"}},
			deprecationWarnCount: 1,
		},
		{name: "nothing", toml: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeConfig(t, tc.toml)
			t.Chdir(cwd)
			cfg, warns := mustLoad(t, LoadOptions{Path: p})
			if tc.mountPath == "" {
				tc.mountPath = tc.base
			}
			if cfg.Core.WorkspaceBase != tc.base || cfg.Core.WorkspaceMountPath != tc.mountPath {
				t.Errorf("workspace_base, workspace_mount_path = %q, %q; want %q, %q",
					cfg.Core.WorkspaceBase, cfg.Core.WorkspaceMountPath, tc.base, tc.mountPath)
			}
			if !reflect.DeepEqual(cfg.Sandbox.Mounts, tc.mounts) {
				t.Errorf("mounts = %+v, want %+v", cfg.Sandbox.Mounts, tc.mounts)
			}
			n := 0
			for _, w := range warns {
				if w.Key == "core.workspace_base" {
					n++
				}
			}
			if n != tc.deprecationWarnCount {
				t.Errorf("%d deprecation warnings, want %d: %v", n, tc.deprecationWarnCount, warns)
			}
		})
	}
}

func TestParseVolumes(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    []Mount
		wantErr bool
	}{
		{spec: "/a:/b", want: []Mount{{Host: "/a", Container: "/b"}}},
		{spec: "/a:/b:ro,/c:/d:rw", want: []Mount{{Host: "/a", Container: "/b", ReadOnly: true}, {Host: "/c", Container: "/d"}}},
		{spec: "", want: nil},
		{spec: "/a", wantErr: true},
		{spec: "/a:/b:ro:x", wantErr: true},
		{spec: "/a:/b:z", wantErr: true},
		{spec: "/a:b", wantErr: true},
		{spec: ":/b", wantErr: true},
	} {
		got, err := parseVolumes(tc.spec)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseVolumes(%q) = %+v, %v; want %+v, error %t", tc.spec, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCondenserLoading(t *testing.T) {
	for _, tc := range []struct {
		name     string
		toml     string
		want     Condenser
		wantWarn string
	}{
		{"type defaults", "[condenser]\ntype = \"observation_masking\"\n", Condenser{Type: "observation_masking", AttentionWindow: 100}, ""},
		{"missing type is noop", "[condenser]\n", Condenser{Type: "noop"}, ""},
		{"unknown type", "[condenser]\ntype = \"magic\"\n", Condenser{Type: "noop"}, `unknown condenser type "magic"`},
		{"unknown llm group", "[condenser]\ntype = \"llm\"\nllm_config = \"nope\"\n",
			Condenser{Type: "llm", KeepFirst: 1, MaxSize: 100, MaxEventLength: 10000}, `condenser.llm_config: no [llm.nope] group`},
		{"known llm group", "[llm.cheap]\nmodel = \"m\"\n[condenser]\ntype = \"llm_attention\"\nllm_config = \"cheap\"\nmax_size = 50\n",
			Condenser{Type: "llm_attention", LLMConfig: "cheap", KeepFirst: 1, MaxSize: 50}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warns := mustLoad(t, LoadOptions{Path: writeConfig(t, tc.toml)})
			if !reflect.DeepEqual(cfg.Agent.Condenser, tc.want) {
				t.Errorf("condenser = %+v, want %+v", cfg.Agent.Condenser, tc.want)
			}
			text := warningsText(warns)
			if (tc.wantWarn == "") != (text == "") || !containsAll(text, tc.wantWarn) {
				t.Errorf("warnings %q, want %q", text, tc.wantWarn)
			}
		})
	}
}
