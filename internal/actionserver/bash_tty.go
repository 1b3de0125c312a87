package actionserver

import (
	"os"

	"golang.org/x/sys/unix"
)

// bashTermios sets the terminal modes the session relies on: a cooked terminal (canonical, so
// Ctrl-D is end-of-file; ISIG, so Ctrl-C, Ctrl-Z and Ctrl-\ signal the foreground job; ICRNL and
// ONLCR; no flow control, so Ctrl-S cannot freeze the output) without echo. The agent's command
// never shows up in the output (OpenHands strips the echo tmux shows; we never produce it), and
// input typed into a running program is echoed by the session itself while the program leaves the
// terminal alone, as a cooked terminal would (see Run).
//
// Canonical mode ends a line at 4,096 bytes, and busybox sh reads at most 1,023 bytes of a line;
// commands with longer lines reach the shell through a file (see typedCommand).
type bashTermios struct {
	cooked uint64 // the local modes we set, to tell our settings from a program's
}

func (t *bashTermios) apply(f *os.File) error {
	return bashControl(f, func(fd int) error {
		tio, err := unix.IoctlGetTermios(fd, bashIoctlGetTermios)
		if err != nil {
			return err
		}
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ECHOCTL | unix.IEXTEN
		// ECHOE and ECHOK do nothing without ECHO; they mark the modes as ours: a program that
		// turns echo off to read a password usually clears them too.
		tio.Lflag |= unix.ICANON | unix.ISIG | unix.ECHOE | unix.ECHOK
		tio.Iflag &^= unix.IXON | unix.IXOFF | unix.INLCR | unix.IGNCR
		tio.Iflag |= unix.ICRNL
		tio.Oflag |= unix.OPOST | unix.ONLCR
		tio.Cc[unix.VEOF] = 0x04
		tio.Cc[unix.VINTR] = 0x03
		tio.Cc[unix.VSUSP] = 0x1a
		tio.Cc[unix.VQUIT] = 0x1c
		if err := unix.IoctlSetTermios(fd, bashIoctlSetTermios, tio); err != nil {
			return err
		}
		t.cooked = uint64(tio.Lflag)
		return nil
	})
}

// ours reports that the terminal still has the local modes we set (no program changed them).
func (t *bashTermios) ours(f *os.File) bool {
	var fl uint64
	err := bashControl(f, func(fd int) error {
		tio, err := unix.IoctlGetTermios(fd, bashIoctlGetTermios)
		if err == nil {
			fl = uint64(tio.Lflag)
		}
		return err
	})
	return err == nil && fl == t.cooked
}

// bashForegroundGroup is the terminal's foreground process group.
func bashForegroundGroup(f *os.File) (int, error) {
	pg := 0
	err := bashControl(f, func(fd int) error {
		var err error
		pg, err = unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		return err
	})
	return pg, err
}

// bashControl runs fn on f's descriptor without taking it out of the runtime poller (f.Fd would
// make it blocking, and a blocked Read could then not be interrupted by Close).
func bashControl(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
