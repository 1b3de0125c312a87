//go:build !unix

package socketio

import (
	"net"
	"syscall"
)

// rawConn is nil where direct writes are not implemented: every frame goes through the writer.
func rawConn(net.Conn) syscall.RawConn { return nil }

func writeDirect(syscall.RawConn, []byte) (int, error) { return 0, nil }
