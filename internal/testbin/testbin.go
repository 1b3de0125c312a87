// Package testbin builds, once per test process, the static gohands binary that sandboxes run as
// their action server (a test binary cannot be it). For tests only.
package testbin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	path string
	err  error
)

// Static returns the path of a CGO_ENABLED=0 build of cmd/gohands, building it on first use.
func Static(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "gohands-test-bin-"); err != nil {
			return
		}
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(dir, "gohands")
		cmd := exec.Command("go", "build", "-o", path, "./cmd/gohands")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = errors.New(berr.Error() + "\n" + string(out))
		}
	})
	if err != nil {
		t.Fatalf("build the static gohands binary for sandboxes (needs the go tool): %v", err)
	}
	return path
}

// Cleanup removes the binary; call it from TestMain after the tests ran.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
