//go:build !unix

package eventlog

import "os"

// lockFile is a no-op where flock is unavailable; gohands runs on Unix.
func lockFile(f *os.File) error { return nil }

// fileIno is 0 (unknown) where inode numbers are not available.
func fileIno(f *os.File) uint64 { return 0 }
