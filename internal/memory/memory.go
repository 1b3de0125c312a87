package memory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Options configure a conversation's Memory. Only the stream is required.
type Options struct {
	// GlobalDir is a microagents directory of the backend host, read first (the caller passes
	// ~/.openhands/microagents or whatever the configuration says); "" for none.
	GlobalDir string
	// Workspace is where the workspace's microagents are read from; nil for none.
	Workspace Workspace
	// WorkingDir is the workspace as the agent sees it ("/workspace"): the recall observation's
	// working_dir, and the prefix of workspace microagents' Source.
	WorkingDir string
	// RepoName is the selected repository, "owner/repo"; RepoDirectory its directory inside the
	// workspace (default: the last segment of RepoName). With a repository, the workspace's
	// microagents are read from that directory.
	RepoName      string
	RepoDirectory string
	// RuntimeHosts are the runtime's web hosts (URL → port).
	RuntimeHosts map[string]int
	// AdditionalAgentInstructions come from the runtime.
	AdditionalAgentInstructions string
	// CustomSecretsDescriptions describe the user's secrets (name → description).
	CustomSecretsDescriptions map[string]string
	// ConversationInstructions were given when the conversation was created.
	ConversationInstructions string
	// DisabledMicroagents are names of microagents never loaded.
	DisabledMicroagents []string
	// Now gives the date of the workspace context (default time.Now).
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnError, if set, is told when a recall could not be answered (OpenHands reports it as the
	// STATUS$ERROR_MEMORY runtime status); the error is logged either way.
	OnError func(error)
}

// Memory answers the recall actions of one conversation's stream.
//
// Start loads the microagents and subscribes; from then on every recall action gets exactly one
// answer, a recall or a null observation whose cause is the action, which is what releases the
// controller's pending step.
type Memory struct {
	stream   *events.Stream
	opts     Options
	logger   *slog.Logger
	handlers sync.WaitGroup // recall actions being answered

	// mu guards the fields below.
	mu      sync.Mutex
	agents  []*Microagent // in load order; a replacement takes the place of the one it replaces
	started bool
	closed  bool
	// recalled names the knowledge microagents already sent in a recall observation of this
	// conversation, so that a knowledge recall sends only new ones.
	recalled map[string]bool
}

// New returns the Memory of a conversation; it does nothing until Start.
func New(stream *events.Stream, opts Options) *Memory {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RepoName != "" && opts.RepoDirectory == "" {
		opts.RepoDirectory = path.Base(opts.RepoName)
	}
	return &Memory{
		stream:   stream,
		opts:     opts,
		logger:   opts.Logger.With("conversation_id", stream.ConversationID()),
		recalled: map[string]bool{},
	}
}

// Start loads the microagents and begins answering recall actions appended from now on.
//
// A microagent that cannot be read or parsed is logged with its file name and left out: it does
// not stop the conversation (in OpenHands it does). Knowledge already recalled earlier in the
// conversation (a resumed one) is not sent again.
func (m *Memory) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started || m.closed {
		m.mu.Unlock()
		return errors.New("memory: Start called twice or after Close")
	}
	m.started = true
	m.mu.Unlock()

	agents, err := m.load(ctx)
	if err != nil {
		return fmt.Errorf("load microagents: %w", err)
	}
	latest := m.stream.LatestID()
	recalled, err := m.recalledBefore(ctx, latest)
	if err != nil {
		return fmt.Errorf("read recalled microagents: %w", err)
	}
	m.mu.Lock()
	m.agents = agents
	m.recalled = recalled
	m.mu.Unlock()

	names := make([]string, len(agents))
	for i, a := range agents {
		names[i] = a.Name
	}
	m.logger.Info("microagents loaded", "count", len(agents), "names", names)
	if err := m.stream.Subscribe(events.SubscriberMemory, m.handle, latest+1); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	return nil
}

// Close stops answering and waits for an answer being written.
func (m *Memory) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	started := m.started
	m.mu.Unlock()
	if started {
		m.stream.Unsubscribe(events.SubscriberMemory)
	}
	m.handlers.Wait()
}

// Microagents lists the loaded microagents in load order (repository and knowledge alike).
func (m *Memory) Microagents() []Microagent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Microagent, len(m.agents))
	for i, a := range m.agents {
		out[i] = *a
		out[i].Triggers = slices.Clone(a.Triggers)
		out[i].Inputs = slices.Clone(a.Inputs)
	}
	return out
}

// load reads every source, later ones replacing earlier ones by name: the global directory, then
// the workspace's legacy instructions file, microagents directory and AGENTS.md.
func (m *Memory) load(ctx context.Context) ([]*Microagent, error) {
	var set microagentSet
	add := func(agents []*Microagent, errs []error) {
		for _, err := range errs {
			m.logger.Error("microagent skipped", "err", err)
		}
		for _, a := range agents {
			if slices.Contains(m.opts.DisabledMicroagents, a.Name) {
				m.logger.Debug("microagent disabled", "name", a.Name)
				continue
			}
			if a.MCPTools != nil && len(a.MCPTools.SSEServers) > 0 {
				m.logger.Warn("microagent has SSE MCP servers: only its stdio servers are used",
					"name", a.Name, "source", a.Source)
			}
			set.put(a)
		}
	}
	if m.opts.GlobalDir != "" {
		add(loadDir(ctx, DirWorkspace(m.opts.GlobalDir), "", func(p string) string {
			return filepath.Join(m.opts.GlobalDir, filepath.FromSlash(p))
		}))
	}
	if ws := m.opts.Workspace; ws != nil {
		source := func(p string) string { return path.Join(m.opts.WorkingDir, p) }
		add(m.loadLegacy(ctx, ws, source))
		add(loadDir(ctx, ws, path.Join(m.opts.RepoDirectory, ".openhands/microagents"), source))
		add(m.loadAgentsMD(ctx, ws, source))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return set.list, nil
}

// loadLegacy reads .openhands_instructions, OpenHands' original repository instructions, from the
// workspace root or else the repository's directory, as the repo microagent "repo_legacy".
func (m *Memory) loadLegacy(ctx context.Context, ws Workspace, source func(string) string) ([]*Microagent, []error) {
	const name = ".openhands_instructions"
	p := name
	data, err := ws.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) && m.opts.RepoDirectory != "" {
		p = path.Join(m.opts.RepoDirectory, name)
		data, err = ws.ReadFile(ctx, p)
	}
	return wholeFile(p, "repo_legacy", string(data), err, source)
}

// loadAgentsMD reads AGENTS.md at the root of the repository (or workspace) as the repo
// microagent "agents_md". OpenHands 0.50 does not know the file; it is plain markdown, so it is not
// searched for front matter.
func (m *Memory) loadAgentsMD(ctx context.Context, ws Workspace, source func(string) string) ([]*Microagent, []error) {
	p := path.Join(m.opts.RepoDirectory, "AGENTS.md")
	data, err := ws.ReadFile(ctx, p)
	return wholeFile(p, "agents_md", strings.TrimSpace(string(data)), err, source)
}

// wholeFile makes a repo microagent of a file read whole; a missing file gives nothing.
func wholeFile(p, name, content string, err error, source func(string) string) ([]*Microagent, []error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, []error{fmt.Errorf("microagent %s: %w", source(p), err)}
	}
	return []*Microagent{{
		Name: name, Type: TypeRepo, Content: content, Version: "1.0.0", Agent: "CodeActAgent", Source: source(p),
	}}, nil
}

// microagentSet keeps microagents by name in first-load order, as a Python dict does: a later
// microagent of the same name takes the earlier one's place.
type microagentSet struct {
	list []*Microagent
}

func (s *microagentSet) put(a *Microagent) {
	for i, b := range s.list {
		if b.Name == a.Name {
			s.list[i] = a
			return
		}
	}
	s.list = append(s.list, a)
}

// recalledBefore names the microagents sent by recall observations up to event id last.
func (m *Memory) recalledBefore(ctx context.Context, last int64) (map[string]bool, error) {
	recalled := map[string]bool{}
	if last < 0 {
		return recalled, nil
	}
	f := events.Filter{EndID: last, IncludeTypes: []string{"RecallObservation"}}
	for ev, err := range m.stream.Search(ctx, f) {
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			m.logger.Warn("event skipped while reading recalled microagents", "err", err)
			continue
		}
		if obs, ok := ev.Observation.(*events.RecallObservation); ok {
			for _, k := range obs.MicroagentKnowledge {
				recalled[k.Name] = true
			}
		}
	}
	return recalled, nil
}
