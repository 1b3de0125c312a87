//go:build unix

package socketio

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// rawConn is the descriptor behind nc when it is a plain socket, nil otherwise (then every frame
// goes through the writer goroutine).
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeDirect writes as much of b as the socket takes now, without waiting: it returns how many
// bytes went out. A full send buffer is not an error (n < len(b), nil).
func writeDirect(rc syscall.RawConn, b []byte) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := unix.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == unix.EINTR:
				continue
			case e == unix.EAGAIN:
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}
