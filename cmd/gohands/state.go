package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/storage"
)

// commonFlags are the flags every command that reads configuration or state accepts.
type commonFlags struct {
	configFile string
	stateDir   string
	debug      bool
	overrides  config.Overrides // set by commands with flags of their own
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configFile, "config-file", "", "config.toml to read (default: ./config.toml when present)")
	fs.StringVar(&c.stateDir, "state-dir", "", "state directory (default: core.file_store_path, ~/.openhands)")
	fs.BoolVar(&c.debug, "debug", false, "debug logging")
}

// load reads the configuration and prints its warnings (unknown keys, with file and line).
func (c *commonFlags) load(stderr io.Writer) (*config.Config, *slog.Logger, error) {
	ov := c.overrides
	if c.stateDir != "" {
		ov.Set = append(ov.Set, "core.file_store_path="+c.stateDir)
	}
	cfg, warnings, err := config.Load(config.LoadOptions{Path: c.configFile, Env: os.LookupEnv, Overrides: ov})
	log := newLogger(stderr, c.debug || (cfg != nil && cfg.Core.Debug))
	for _, w := range warnings {
		log.Warn("config: " + w.String())
	}
	if err != nil {
		return nil, log, err
	}
	return cfg, log, nil
}

func (c *commonFlags) openStore(stderr io.Writer) (*config.Config, *storage.Store, *slog.Logger, error) {
	cfg, log, err := c.load(stderr)
	if err != nil {
		return nil, nil, log, err
	}
	store, err := storage.Open(cfg.Core.FileStorePath, storage.Options{Logger: log})
	if err != nil {
		return nil, nil, log, err
	}
	return cfg, store, log, nil
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import-openhands", stderr)
	var common commonFlags
	common.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gohands import-openhands [flags] OPENHANDS_STATE_DIR")
		fmt.Fprintln(stderr, "Copies conversations from OpenHands 0.50 (sessions/<id>/…) into the gohands store; the source is only read.")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one OpenHands state directory, got %d arguments", errUsage, fs.NArg())
	}
	_, store, _, err := common.openStore(stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.ImportOpenHands(ctx, fs.Arg(0))
	for _, id := range rep.Imported {
		fmt.Fprintf(stdout, "imported %s\n", id)
	}
	for _, id := range rep.Skipped {
		fmt.Fprintf(stdout, "skipped  %s (already in the store)\n", id)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(stderr, "error: %v\n", e)
	}
	fmt.Fprintf(stdout, "%d imported, %d skipped, %d failed\n", len(rep.Imported), len(rep.Skipped), len(rep.Errors))
	if err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		return errors.New("some conversations could not be imported (see above)")
	}
	return nil
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("events", stderr)
	var common commonFlags
	common.register(fs)
	start := fs.Int64("start", 0, "first event id")
	end := fs.Int64("end", -1, "last event id (inclusive; -1: the latest)")
	reverse := fs.Bool("reverse", false, "newest first")
	limit := fs.Int("limit", 0, "at most this many events (0: all)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gohands events [flags] CONVERSATION_ID")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one conversation id", errUsage)
	}
	id := fs.Arg(0)
	_, store, log, err := common.openStore(stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.GetConversation(id); err != nil {
		return err
	}
	elog, err := store.OpenEventLog(id)
	if err != nil {
		return err
	}
	stream := events.NewStream(id, elog, events.StreamOptions{Logger: log})
	defer stream.Close()
	f := events.Filter{StartID: *start, EndID: *end, Reverse: *reverse, Limit: *limit}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for ev, err := range stream.Search(ctx, f) {
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			continue
		}
		raw, err := events.Marshal(ev)
		if err != nil {
			return fmt.Errorf("event %s: %w", strconv.FormatInt(ev.ID, 10), err)
		}
		fmt.Fprintf(stdout, "%s\n", raw)
	}
	return nil
}
