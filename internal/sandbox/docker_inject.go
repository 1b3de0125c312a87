package sandbox

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"
)

// checkStaticELF makes sure the binary to inject runs in any image: a static ELF executable,
// with no dynamic loader to find inside the container.
func checkStaticELF(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("gohands binary %s is not an ELF executable (%v); build it with CGO_ENABLED=0 (make build)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("gohands binary %s is dynamically linked, so it cannot run in an arbitrary image; "+
				"build it with CGO_ENABLED=0 (make build)", path)
		}
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("gohands binary %s is not an executable (ELF type %v)", path, f.Type)
	}
	return nil
}

// checkSocketPath fails when the action server's socket in runDir would be too long for a unix
// socket address.
func checkSocketPath(runDir string) error {
	p := filepath.Join(runDir, socketName)
	if len(p) > maxSocketPath {
		return fmt.Errorf("socket path %s is %d bytes, over the %d a unix socket allows: use a shorter run directory",
			p, len(p), maxSocketPath)
	}
	return nil
}

// ensureAPIKey returns the API key in runDir, writing a new random one (0600) if there is none.
// A key is kept across stops so a re-attached server and the backend agree on it.
func ensureAPIKey(runDir string) (string, error) {
	if key, err := readAPIKey(runDir); err == nil {
		return key, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api key: %w", err)
	}
	key := hex.EncodeToString(b)
	p := filepath.Join(runDir, apiKeyName)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(key), 0o600); err != nil {
		return "", fmt.Errorf("api key: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("api key: %w", err)
	}
	return key, nil
}

// readAPIKey reads the key ensureAPIKey wrote.
func readAPIKey(runDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(runDir, apiKeyName))
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(b))
	if len(key) != 64 {
		return "", fmt.Errorf("api key in %s is malformed", runDir)
	}
	return key, nil
}

// copyBinary puts the gohands binary at its in-container path of a created container, for
// engines that cannot bind-mount it from this host.
func (d *Docker) copyBinary(ctx context.Context, id string) error {
	f, err := os.Open(d.opts.Binary)
	if err != nil {
		return fmt.Errorf("copy gohands into the container: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("copy gohands into the container: %w", err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tw := tar.NewWriter(pw)
		dir := strings.TrimPrefix(inContainerDir, "/")
		err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755})
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(inContainerBinary, "/"),
				Mode: 0o755, Size: info.Size()})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	_, err = d.engine.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: pr})
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if the engine stopped reading early
	<-done
	if err != nil {
		return fmt.Errorf("copy gohands into the container: %w", err)
	}
	return nil
}
