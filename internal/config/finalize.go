package config

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// finalize derives values from the loaded settings (OpenHands'
// finalize_config, minus its side effects: creating cache_dir and the JWT
// secret file are left to the components that own them).
func (l *loader) finalize() {
	c := l.cfg
	d := &decoder{file: l.file}
	defer l.collect(d)

	if p, err := l.expandHome(c.Core.FileStorePath); err != nil {
		l.fail("core.file_store_path", err)
	} else {
		c.Core.FileStorePath = p
	}
	if c.Core.Runtime == "eventstream" { // OpenHands' old name for docker
		c.Core.Runtime = "docker"
	}
	l.workspace()

	c.eachLLM(func(_ []string, g *LLM) {
		if g.LogCompletionsFolder != "" {
			if abs, err := filepath.Abs(g.LogCompletionsFolder); err == nil {
				g.LogCompletionsFolder = abs
			}
		}
	})

	if c.Core.Runtime == "cli" { // the CLI runtime has no Jupyter and no browser
		c.eachAgent(func(_ []string, a *Agent) { a.EnableJupyter, a.EnableBrowsing = false, false })
	}

	// Default condenser (OpenHands' TOML loader): a config file without a
	// [condenser] section gives the default agent an LLM-summarising
	// condenser using the default LLM group. Without a config file the
	// agent keeps noop.
	if l.file != nil && !l.hasCondenserSection && !l.agentCondenserSet && c.Core.EnableDefaultCondenser {
		c.Agent.Condenser = DefaultCondenser(CondenserLLM)
	}

	// References to LLM groups: OpenHands falls back to the default group
	// with a warning when the name is unknown; say so at load.
	c.eachAgent(func(p []string, a *Agent) {
		inherited := len(p) > 1 && a.LLMConfig == c.Agent.LLMConfig // warned about once, for [agent]
		if a.LLMConfig != "" && a.LLMConfig != "llm" && !inherited {
			if _, ok := c.LLMs[a.LLMConfig]; !ok {
				kp := appendPath(p, "llm_config")
				d.warn(kp, "%s: no [llm.%s] group; the default [llm] group will be used", dotted(kp), a.LLMConfig)
			}
		}
		cp := appendPath(p, "condenser")
		if len(p) == 1 && !l.agentCondenserSet {
			cp = []string{"condenser"} // set by the [condenser] section
		}
		l.checkCondenserLLM(d, cp, &a.Condenser)
	})
}

func (l *loader) checkCondenserLLM(d *decoder, p []string, cd *Condenser) {
	if cd.LLMConfig != "" && cd.LLMConfig != "llm" {
		if _, ok := l.cfg.LLMs[cd.LLMConfig]; !ok {
			d.warn(appendPath(p, "llm_config"), "%s.llm_config: no [llm.%s] group; using the default [llm] group", dotted(p), cd.LLMConfig)
			cd.LLMConfig = ""
		}
	}
	for i := range cd.Condensers {
		l.checkCondenserLLM(d, appendPath(appendPath(p, "condensers"), indexElem(i)), &cd.Condensers[i])
	}
}

func (l *loader) fail(key string, err error) {
	l.errs = append(l.errs, &Error{Source: l.originOf(key), Key: key, Err: err})
}

// expandHome expands a leading "~" using HOME from the given environment,
// falling back to the process's home directory.
func (l *loader) expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, ok := l.env("HOME")
	if !ok || home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot expand ~ in %q: %w", p, err)
		}
	}
	return filepath.Join(home, p[1:]), nil
}

// workspace turns sandbox.volumes, or the deprecated core.workspace_* keys,
// into Sandbox.Mounts, keeping OpenHands' derived workspace values.
func (l *loader) workspace() {
	c := l.cfg
	if c.Sandbox.Volumes != "" {
		mounts, err := parseVolumes(c.Sandbox.Volumes)
		if err != nil {
			l.fail("sandbox.volumes", err)
			return
		}
		c.Core.WorkspaceBase, c.Core.WorkspaceMountPath = "", ""
		for i := range mounts {
			m := &mounts[i]
			host, err := l.expandHome(m.Host)
			if err == nil {
				host, err = filepath.Abs(host)
			}
			if err != nil {
				l.fail("sandbox.volumes", err)
				return
			}
			m.Host = host
			if m.Container == "/workspace" && c.Core.WorkspaceBase == "" {
				c.Core.WorkspaceBase, c.Core.WorkspaceMountPath = host, host
				c.Core.WorkspaceMountPathInSandbox = "/workspace"
			}
		}
		c.Sandbox.Mounts = mounts
		return
	}

	core := &c.Core
	if core.WorkspaceBase != "" || core.WorkspaceMountPath != "" {
		l.warns = append(l.warns, Warning{Key: "core.workspace_base",
			Msg: "core.workspace_base and core.workspace_mount_path are deprecated; use sandbox.volumes = \"/host/dir:/workspace:rw\""})
	}
	if core.WorkspaceBase != "" {
		base, err := l.expandHome(core.WorkspaceBase)
		if err == nil {
			base, err = filepath.Abs(base)
		}
		if err != nil {
			l.fail("core.workspace_base", err)
			return
		}
		core.WorkspaceBase = base
		if core.WorkspaceMountPath == "" {
			core.WorkspaceMountPath = base
		}
	}
	if core.WorkspaceMountRewrite != "" && (core.WorkspaceBase != "" || core.WorkspaceMountPath != "") {
		from, to, ok := strings.Cut(core.WorkspaceMountRewrite, ":")
		if !ok {
			l.fail("core.workspace_mount_rewrite", fmt.Errorf("%q: want from:to", core.WorkspaceMountRewrite))
			return
		}
		base := core.WorkspaceBase
		if base == "" {
			base, _ = os.Getwd()
		}
		core.WorkspaceMountPath = strings.ReplaceAll(base, from, to)
	}
	if core.WorkspaceMountPath != "" {
		c.Sandbox.Mounts = []Mount{{Host: core.WorkspaceMountPath, Container: core.WorkspaceMountPathInSandbox}}
	}
}

// parseVolumes reads "host:container[:mode],..." without touching the host
// paths. Empty entries (a trailing comma) are skipped.
func parseVolumes(spec string) ([]Mount, error) {
	var mounts []Mount
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.Split(entry, ":")
		if len(parts) != 2 && len(parts) != 3 {
			return nil, fmt.Errorf("%q: want host:container or host:container:mode", entry)
		}
		m := Mount{Host: parts[0], Container: parts[1]}
		if m.Host == "" || m.Container == "" {
			return nil, fmt.Errorf("%q: empty host or container path", entry)
		}
		if !path.IsAbs(m.Container) {
			return nil, fmt.Errorf("%q: container path %q must be absolute", entry, m.Container)
		}
		if len(parts) == 3 {
			switch parts[2] {
			case "rw":
			case "ro":
				m.ReadOnly = true
			default:
				return nil, fmt.Errorf("%q: mode %q must be rw or ro", entry, parts[2])
			}
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}
