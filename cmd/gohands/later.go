package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// The commands below are wired to their flags and configuration now; their engines (server, agent
// loop, sandbox) land in the issues that build them. Until then they fail plainly instead of
// pretending.

var errNotBuilt = errors.New("not available in this build yet")

func runServe(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var common commonFlags
	common.register(fs)
	fs.String("host", "127.0.0.1", "address to listen on")
	fs.Int("port", 3000, "port to listen on")
	fs.String("runtime", "auto", "sandbox kind: auto, docker or local")
	fs.String("frontend-dir", "", "serve a built OpenHands frontend from this directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, store, _, err := common.openStore(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "state directory: %s\nmodel: %s\n", store.Root(), cfg.LLM.Model)
	return fmt.Errorf("the web server is %w: the configuration and the store are ready; use 'gohands events' and 'gohands import-openhands' meanwhile", errNotBuilt)
}
