//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package actionserver

import "golang.org/x/sys/unix"

const (
	bashIoctlGetTermios = unix.TIOCGETA
	bashIoctlSetTermios = unix.TIOCSETA
)

// bashFlushInput discards the terminal's unread input.
func bashFlushInput(fd int) error { return unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, 1 /* FREAD */) }

// bashKillSession is a no-op here: killing the shell's process group and hanging up the terminal
// has to do.
func bashKillSession(sid int) {}
