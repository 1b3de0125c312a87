package eventlog

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: the log owns
// no background goroutines, and waiters must all return.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
