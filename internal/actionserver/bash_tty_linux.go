package actionserver

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	bashIoctlGetTermios = unix.TCGETS
	bashIoctlSetTermios = unix.TCSETS
)

// bashFlushInput discards the terminal's unread input.
func bashFlushInput(fd int) error { return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH) }

// bashKillSession SIGKILLs every process whose session is sid (the shell started its own session):
// background jobs live in process groups of their own, and nohup'd ones ignore SIGHUP.
func bashKillSession(sid int) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session …; comm may contain spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 4 {
			continue
		}
		if sess, err := strconv.Atoi(f[3]); err == nil && sess == sid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
