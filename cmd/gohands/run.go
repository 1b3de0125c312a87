package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/agent"
	"github.com/gohands/gohands/internal/agent/codeact"
	"github.com/gohands/gohands/internal/agent/replay"
	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/controller"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
	"github.com/gohands/gohands/internal/memory"
	"github.com/gohands/gohands/internal/sandbox"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
)

// exitError carries a process exit status with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	var common commonFlags
	common.register(fs)
	task := fs.String("t", "", "the task")
	taskFile := fs.String("f", "", "read the task from this file")
	replayFile := fs.String("replay", "", "replay an OpenHands trajectory JSON file")
	runtimeKind := fs.String("runtime", "auto", "sandbox: auto (docker when an engine answers, else local), docker or local")
	workspace := fs.String("workspace", "", "host directory the agent works in (local sandbox; default: a new one in the state directory)")
	saveTraj := fs.String("save-trajectory", "", "write the conversation as an OpenHands trajectory JSON file")
	maxIter := fs.Int("max-iterations", 0, "maximum agent steps (default: core.max_iterations)")
	llmGroup := fs.String("llm-config", "", "use the [llm.<name>] group of config.toml")
	confirm := fs.Bool("confirm", false, "ask before running each command (confirmation mode)")
	noColor := fs.Bool("no-color", false, "no colours or spinner")
	binary := fs.String("sandbox-binary", "", "static gohands binary to run inside the sandbox (default: this one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gohands run [flags] -t \"task\" | -f task.md | --replay trajectory.json")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q (quote the task: -t \"...\")", errUsage, fs.Args())
	}
	text := *task
	if *taskFile != "" {
		if text != "" {
			return fmt.Errorf("%w: give -t or -f, not both", errUsage)
		}
		data, err := os.ReadFile(*taskFile)
		if err != nil {
			return fmt.Errorf("read the task: %w", err)
		}
		text = strings.TrimSpace(string(data))
	}
	var trajectory []*events.Event
	if *replayFile != "" {
		f, err := os.Open(*replayFile)
		if err != nil {
			return fmt.Errorf("read the trajectory: %w", err)
		}
		trajectory, err = replay.Load(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *replayFile, err)
		}
	}
	if text == "" && trajectory == nil {
		return fmt.Errorf("%w: no task: give -t \"task\", -f task.md or --replay file.json", errUsage)
	}

	common.overrides.LLMConfig = *llmGroup
	if *maxIter > 0 {
		common.overrides.MaxIterations = maxIter
	}
	cfg, store, log, err := common.openStore(stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	r := &headlessRun{cfg: cfg, store: store, log: log, stdout: stdout, stderr: stderr,
		printer: newPrinter(stdout, *noColor), confirm: *confirm || cfg.Security.ConfirmationMode}
	return r.run(ctx, runSpec{task: text, trajectory: trajectory, runtime: *runtimeKind, workspace: *workspace,
		binary: *binary, saveTrajectory: *saveTraj})
}

type runSpec struct {
	task           string
	trajectory     []*events.Event
	runtime        string
	workspace      string
	binary         string
	saveTrajectory string
}

// headlessRun is one conversation in the terminal.
type headlessRun struct {
	cfg     *config.Config
	store   *storage.Store
	log     *slog.Logger
	stdout  io.Writer
	stderr  io.Writer
	printer *printer
	confirm bool
}

func newConversationID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *headlessRun) run(ctx context.Context, spec runSpec) (err error) {
	id := newConversationID()
	now := time.Now().UTC()
	title := "Conversation " + id[:5]
	model := r.cfg.LLMConfig(r.cfg.Agent.LLMConfig).Model
	if err := r.store.CreateConversation(&storage.ConversationMetadata{ConversationID: id, Title: &title,
		CreatedAt: now, LastUpdatedAt: &now, LLMModel: &model}); err != nil {
		return err
	}
	elog, err := r.store.OpenEventLog(id)
	if err != nil {
		return err
	}
	stream := events.NewStream(id, elog, events.StreamOptions{Logger: r.log})
	defer stream.Close()
	fmt.Fprintf(r.stderr, "conversation %s (state in %s)\n", id, r.store.Root())

	rt, hostWorkspace, err := r.startSandbox(ctx, id, spec)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		rt.Close(closeCtx)
		if !r.cfg.Sandbox.KeepRuntimeAlive {
			os.RemoveAll(rt.RunDir()) // the socket and key of a sandbox nobody will re-attach to
		}
		if hostWorkspace != "" {
			fmt.Fprintf(r.stderr, "workspace: %s\n", hostWorkspace)
		} else {
			fmt.Fprintf(r.stderr, "workspace: in container %s (stopped; it is removed when the conversation is deleted)\n", rt.Info().Name)
		}
	}()

	ag, metrics, err := r.makeAgent(rt, spec)
	if err != nil {
		return err
	}
	memOpts := memory.Options{GlobalDir: filepath.Join(r.store.Root(), "microagents"),
		WorkingDir: rt.Info().WorkspaceDir, Logger: r.log}
	if hostWorkspace != "" {
		memOpts.Workspace = memory.DirWorkspace(hostWorkspace)
	}
	mem := memory.New(stream, memOpts)
	if err := mem.Start(ctx); err != nil {
		return err
	}
	defer mem.Close()
	bridge := session.NewRuntimeBridge(stream, rt, r.log)
	if err := bridge.Start(); err != nil {
		return err
	}
	defer bridge.Close()
	if err := stream.Subscribe(events.SubscriberMain, r.printer.handle, -1); err != nil {
		return err
	}
	defer r.printer.close()

	var budget float64
	if b := r.cfg.Core.MaxBudgetPerTask; b != nil {
		budget = *b
	}
	ctrl := controller.New(stream, ag, controller.Config{MaxIterations: r.cfg.Core.MaxIterations,
		MaxBudgetPerTask: budget, ConfirmationMode: r.confirm, Headless: true, Logger: r.log, Metrics: metrics})
	if err := ctrl.Start(ctx); err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		ctrl.Close(closeCtx)
	}()

	first := spec.task
	if rp, ok := ag.(*replay.Agent); ok && first == "" {
		if m := rp.InitialMessage(); m != nil {
			first = m.Content
		}
	}
	if first == "" {
		first = "Replay the recorded actions."
	}
	if _, err := stream.Append(ctx, events.NewAction(&events.MessageAction{Content: first, ImageURLs: []string{}}), events.SourceUser); err != nil {
		return err
	}
	final, err := r.drive(ctx, stream, ctrl)
	if spec.saveTrajectory != "" {
		if terr := saveTrajectory(context.WithoutCancel(ctx), stream, spec.saveTrajectory); terr != nil {
			fmt.Fprintf(r.stderr, "could not save the trajectory: %v\n", terr)
		} else {
			fmt.Fprintf(r.stderr, "trajectory: %s\n", spec.saveTrajectory)
		}
	}
	if err != nil {
		return err
	}
	switch final {
	case events.StateFinished, events.StateAwaitingUserInput:
		return nil
	case events.StateError:
		return &exitError{code: 1, msg: "the agent stopped with an error: " + ctrl.LastError()}
	default:
		return &exitError{code: 1, msg: "the agent ended in state " + string(final)}
	}
}

// drive waits for the run to end, answering confirmation requests and, on a terminal, the agent's
// questions.
func (r *headlessRun) drive(ctx context.Context, stream *events.Stream, ctrl *controller.Controller) (events.AgentState, error) {
	in := bufio.NewReader(os.Stdin)
	interactive := isTerminal(os.Stdin)
	for {
		st, err := ctrl.Wait(ctx, events.StateFinished, events.StateRejected, events.StateError, events.StateStopped,
			events.StateAwaitingUserConfirmation, events.StateAwaitingUserInput)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(r.stderr, "interrupted: stopping the agent")
				stream.Append(context.WithoutCancel(ctx), events.NewAction(&events.ChangeAgentStateAction{AgentState: events.StateStopped}), events.SourceUser)
				return events.StateStopped, nil
			}
			return "", err
		}
		switch st {
		case events.StateAwaitingUserConfirmation:
			answer := events.StateUserRejected
			if interactive {
				fmt.Fprint(r.stderr, "run this? [y/N] ")
				line, _ := in.ReadString('\n')
				if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y") {
					answer = events.StateUserConfirmed
				}
			} else {
				fmt.Fprintln(r.stderr, "confirmation mode needs a terminal to answer: rejecting")
			}
			if _, err := stream.Append(ctx, events.NewAction(&events.ChangeAgentStateAction{AgentState: answer}), events.SourceUser); err != nil {
				return "", err
			}
			if _, err := ctrl.Wait(ctx, answer, events.StateRunning, events.StateAwaitingUserInput, events.StateError); err != nil {
				return "", err
			}
		case events.StateAwaitingUserInput:
			if !interactive {
				return st, nil
			}
			fmt.Fprint(r.stderr, "you (empty line to end): ")
			line, err := in.ReadString('\n')
			line = strings.TrimSpace(line)
			if line == "" || err != nil {
				return st, nil
			}
			if _, err := stream.Append(ctx, events.NewAction(&events.MessageAction{Content: line, ImageURLs: []string{}}), events.SourceUser); err != nil {
				return "", err
			}
			if _, err := ctrl.Wait(ctx, events.StateRunning, events.StateError); err != nil {
				return "", err
			}
		default:
			return st, nil
		}
	}
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// makeAgent returns the agent of the run and the source of its LLM metrics.
func (r *headlessRun) makeAgent(rt sandbox.Runtime, spec runSpec) (agent.Agent, func() events.Metrics, error) {
	if spec.trajectory != nil {
		return replay.New(spec.trajectory), nil, nil
	}
	llmCfg := r.cfg.LLMConfig(r.cfg.Agent.LLMConfig)
	client, err := llm.New(llmCfg, llm.Options{Logger: r.log})
	if err != nil {
		return nil, nil, fmt.Errorf("LLM %q: %w", llmCfg.Model, err)
	}
	ag := codeact.New(client, r.cfg.Agent, codeact.Options{WorkspaceDir: rt.Info().WorkspaceDir, Logger: r.log})
	return ag, client.Metrics().Snapshot, nil
}

// startSandbox starts the conversation's sandbox; hostWorkspace is the host directory of the
// workspace for a local sandbox, "" for a container.
func (r *headlessRun) startSandbox(ctx context.Context, id string, spec runSpec) (rt *session.Sandbox, hostWorkspace string, err error) {
	sbs, note, err := session.ResolveSandboxes(ctx, spec.runtime, session.Sandboxes{Config: r.cfg, Store: r.store,
		Binary: spec.binary, InstanceID: "gohands-run", Workspace: spec.workspace, Logger: r.log})
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown sandbox kind") {
			return nil, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		return nil, "", err
	}
	if spec.runtime == session.KindAuto && sbs.Kind == session.KindLocal {
		fmt.Fprintf(r.stderr, "sandbox: %s\n", note)
	}
	rt, err = sbs.New(id, nil)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(r.stderr, "starting the %s sandbox…\n", sbs.Kind)
	start := time.Now()
	if err := rt.Start(ctx); err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		rt.Close(closeCtx)
		cancel()
		return nil, "", err
	}
	fmt.Fprintf(r.stderr, "sandbox ready in %v\n", time.Since(start).Round(time.Millisecond))
	return rt, rt.HostWorkspace, nil
}

func saveTrajectory(ctx context.Context, stream *events.Stream, path string) error {
	var all []*events.Event
	for ev, err := range stream.Search(ctx, events.All) {
		if err != nil {
			return err
		}
		all = append(all, ev)
	}
	data, err := events.MarshalTrajectory(all, false)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
