package sandbox

import (
	"os"
	"testing"

	"github.com/gohands/gohands/internal/testbin"
)

// testBinary is the static gohands binary injected into sandboxes.
func testBinary(t testing.TB) string { return testbin.Static(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
