//go:build !unix

package eventlog

import "os"

// lockFile is a no-op where flock is unavailable; gohands runs on Unix.
func lockFile(f *os.File) error { return nil }
