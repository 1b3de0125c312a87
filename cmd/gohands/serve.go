package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/metrics"
	"github.com/gohands/gohands/internal/server"
	"github.com/gohands/gohands/internal/session"
	"github.com/gohands/gohands/internal/storage"
	"github.com/gohands/gohands/internal/webui"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var common commonFlags
	common.register(fs)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", envInt("port", 3000), "port to listen on (env: port)")
	runtimeKind := fs.String("runtime", "auto", "sandbox: auto (docker when an engine answers, else local), docker or local")
	frontendDir := fs.String("frontend-dir", "", "serve a built OpenHands frontend (its build directory) instead of the built-in page")
	binary := fs.String("sandbox-binary", "", "static gohands binary to run inside sandboxes (default: this one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gohands serve [flags]")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *frontendDir != "" {
		if err := server.CheckFrontendDir(*frontendDir); err != nil {
			return err
		}
	}
	cfg, store, log, err := common.openStore(stderr)
	if err != nil {
		return err
	}

	instance := instanceID(store.Root())
	sbs, note, err := session.ResolveSandboxes(ctx, *runtimeKind, session.Sandboxes{Config: cfg, Store: store,
		Binary: *binary, InstanceID: instance, Logger: log})
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown sandbox kind") {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	if sbs.Engine != nil {
		keep := func(id string) bool { _, err := store.GetConversation(id); return err == nil }
		if removed, err := sbs.Engine.Reconcile(ctx, instance, keep); err != nil {
			log.Warn("could not reconcile old sandboxes", "err", err)
		} else if len(removed) > 0 {
			log.Info("removed sandboxes of deleted conversations", "containers", removed)
		}
	}

	met := metrics.New()
	sockets := server.NewSockets(server.SocketOptions{SessionAPIKey: os.Getenv("SESSION_API_KEY"), Logger: log})
	mgr := conversation.NewStandalone(conversation.Options{Config: cfg, Store: store, Sandboxes: sbs, Emitter: sockets,
		Logger: log, Metrics: met})
	sockets.SetManager(mgr)
	mgr.Start()

	srv := server.New(cfg, store, server.Options{Logger: log, Version: version,
		SessionAPIKey: os.Getenv("SESSION_API_KEY"), CORSOrigins: splitList(os.Getenv("PERMITTED_CORS_ORIGINS")),
		GitHubClientID: os.Getenv("GITHUB_APP_CLIENT_ID"), EnableBilling: os.Getenv("ENABLE_BILLING") == "true",
		HideLLMSettings:        os.Getenv("HIDE_LLM_SETTINGS") == "true",
		AllowSetConversationID: os.Getenv("ALLOW_SET_CONVERSATION_ID") == "1",
		Conversations:          mgr, FrontendDir: *frontendDir, Metrics: met.Handler(), Socket: sockets.Handler(),
		UI: webui.FS(),
	})

	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		mgr.Close(closeCtx)
		cancel()
		sockets.Close()
		store.Close()
		return fmt.Errorf("listen on %s: %w (is another server running there? pick another with --port)", addr, err)
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}

	face := "built-in page"
	if *frontendDir != "" {
		face = "OpenHands frontend from " + *frontendDir
	}
	fmt.Fprintf(stdout, "gohands %s listening on http://%s/ (%s)\n", version, displayAddr(ln.Addr(), *host), face)
	fmt.Fprintf(stdout, "state directory: %s\n", store.Root())
	fmt.Fprintf(stdout, "sandbox: %s\n", note)
	fmt.Fprintf(stdout, "model: %s\n", modelInUse(store, cfg.LLMConfig(cfg.Agent.LLMConfig).Model))

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		fmt.Fprintln(stderr, "shutting down: closing connections and agent loops…")
	}
	// Stop accepting, finish requests in flight, then close the sockets and the agent loops (each
	// step in flight is cancelled, what it wrote stays; sandboxes stop unless keep_runtime_alive).
	shutCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	httpSrv.Shutdown(shutCtx)
	sockets.Close()
	if cerr := mgr.Close(shutCtx); cerr != nil {
		log.Warn("shutdown did not finish cleanly", "err", cerr)
	}
	if cerr := store.Close(); cerr != nil {
		log.Warn("the event journal did not close cleanly", "err", cerr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// instanceID names this server's sandboxes: stable for one state directory, so a restarted server
// finds its containers again.
func instanceID(root string) string {
	sum := sha256.Sum256([]byte(root))
	return "gohands-" + hex.EncodeToString(sum[:6])
}

// modelInUse is the model of the stored settings (what the web UI configured), else the config's.
func modelInUse(store *storage.Store, fromConfig string) string {
	st, err := store.LoadSettings()
	if err == nil && st.LLMModel != nil && *st.LLMModel != "" {
		key := "no API key set"
		if st.LLMAPIKey != nil && *st.LLMAPIKey != "" {
			key = "API key set"
		}
		return *st.LLMModel + " (from the saved settings, " + key + ")"
	}
	if fromConfig != "" {
		return fromConfig + " (from the configuration; not saved in the settings yet: open the UI's settings)"
	}
	return "none configured: open the UI and choose one in the settings"
}

func displayAddr(a net.Addr, host string) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
