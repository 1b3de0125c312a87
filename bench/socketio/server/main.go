// Command server is the gohands side of the Socket.IO fan-out benchmark (bench/socketio/run.sh).
//
// It serves the real Socket.IO binding of gohands (internal/server over internal/socketio) with
// events-only sessions: no sandbox and no agent, so a client's oh_user_action is decoded, appended
// durably to its conversation's event log (fdatasync, group commit) and fanned out as oh_event to
// every socket of the conversation. That is the path a user message takes in a real server before
// the agent sees it, and exactly what the benchmark measures.
//
// Its state lives in a fresh temporary directory, removed at exit. The conversations are created
// up front as bench00000, bench00001, … (the load generator uses the same names). It prints one
// JSON line {"pid":…,"port":…} once it listens, and exits gracefully on SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	runtimepprof "runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/conversation"
	"github.com/gohands/gohands/internal/server"
	"github.com/gohands/gohands/internal/storage"
)

func main() {
	port := flag.Int("port", 0, "port to listen on at 127.0.0.1 (0 picks a free one)")
	convs := flag.Int("conversations", 1000, "conversations to create (bench00000 …)")
	dir := flag.String("dir", "", "parent of the temporary state directory (default: the system's)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	debug := flag.Bool("pprof", false, "serve net/http/pprof at /debug/pprof/ (heap profiles of a live server)")
	flag.Parse()
	if err := run(*port, *convs, *dir, *cpuProfile, *debug); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// conversationID is the name of the i-th benchmark conversation; load.js uses the same.
func conversationID(i int) string { return fmt.Sprintf("bench%05d", i) }

func run(port, convs int, parent, cpuProfile string, debug bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	root, err := os.MkdirTemp(parent, "gohands-socketio-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := storage.Open(root, storage.Options{Logger: log})
	if err != nil {
		return err
	}
	if err := prepare(store, convs); err != nil {
		return err
	}

	cfg := config.Default()
	// Every benchmark conversation is active at once; OpenHands' default of 3 would evict them.
	cfg.Core.MaxConcurrentConversations = convs + 1

	sockets := server.NewSockets(server.SocketOptions{Logger: log})
	mgr := conversation.NewStandalone(conversation.Options{Config: cfg, Store: store, Emitter: sockets,
		Logger: log, EventsOnly: true})
	sockets.SetManager(mgr)
	mgr.Start()
	srv := server.New(cfg, store, server.Options{Logger: log, Conversations: mgr, Socket: sockets.Handler()})

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := runtimepprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer runtimepprof.StopCPUProfile()
	}
	handler := srv.Handler()
	if debug {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.Handle("/", handler)
		handler = mux
	}
	httpSrv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	hello, _ := json.Marshal(struct {
		PID  int `json:"pid"`
		Port int `json:"port"`
	}{os.Getpid(), ln.Addr().(*net.TCPAddr).Port})
	fmt.Println(string(hello))

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	httpSrv.Shutdown(shutCtx)
	sockets.Close()
	if cerr := mgr.Close(shutCtx); cerr != nil {
		log.Warn("shutdown did not finish cleanly", "err", cerr)
	}
	store.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// prepare stores the settings a join needs and creates the conversations.
func prepare(store *storage.Store, convs int) error {
	st := storage.NewSettings()
	model, key := "openai/gpt-4o", "sk-bench"
	st.LLMModel, st.LLMAPIKey = &model, &key
	if err := store.SaveSettings(st); err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := range convs {
		if err := store.CreateConversation(&storage.ConversationMetadata{ConversationID: conversationID(i),
			CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}
