package socketio

import (
	"time"
)

// closeGrace is how long a gracefully closed connection waits for the client to close its side.
const closeGrace = 2 * time.Second

// writeLoop is the socket's only writer. It drains the queue in batches, sends the heartbeat pings,
// and closes the connection when the pong does not come back in time.
func (s *Socket) writeLoop() {
	defer s.srv.wg.Done()
	defer close(s.writerDone)
	o := s.srv.opts
	// A client that cannot take a write for this long would have failed the heartbeat anyway.
	writeTimeout := o.PingInterval + o.PingTimeout
	var deadline time.Time
	heartbeat := time.NewTimer(o.PingInterval)
	defer heartbeat.Stop()
	awaitingPong := false
	for {
		select {
		case <-s.kill:
			return
		case <-s.pong:
			if awaitingPong {
				awaitingPong = false
				heartbeat.Reset(o.PingInterval)
			}
			continue
		case <-heartbeat.C:
			if awaitingPong {
				s.log.Debug("socket.io ping timeout; closing the connection")
				s.abort(ReasonPingTimeout)
				return
			}
			awaitingPong = true
			heartbeat.Reset(o.PingTimeout)
			deadline = s.extendDeadline(deadline, writeTimeout)
			s.wmu.Lock()
			_, err := s.nc.Write(pingFrame.b)
			s.wmu.Unlock()
			if err != nil {
				s.writeFailed(err)
				return
			}
			continue
		case <-s.wake:
		}

		s.wmu.Lock() // a direct write in flight finishes (and queues its rest) first
		s.qmu.Lock()
		batch := s.queue
		s.queue = s.spare
		s.spare = nil
		final := s.final
		s.qmu.Unlock()

		deadline = s.extendDeadline(deadline, writeTimeout)
		n, err := s.writeBatch(batch)
		s.wmu.Unlock()

		s.qmu.Lock()
		s.qbytes -= n
		clear(batch)
		s.spare = batch[:0]
		s.qmu.Unlock()

		if err != nil {
			s.writeFailed(err)
			return
		}
		if final {
			s.finish()
			return
		}
	}
}

// extendDeadline moves the write deadline when less than three quarters of timeout is left, so
// that most batches cost no timer update.
func (s *Socket) extendDeadline(deadline time.Time, timeout time.Duration) time.Time {
	now := time.Now()
	if deadline.Sub(now) > timeout*3/4 {
		return deadline
	}
	deadline = now.Add(timeout)
	_ = s.nc.SetWriteDeadline(deadline)
	return deadline
}

// writeBatch writes frames with one system call (writev) and returns the bytes they hold. Each
// frame is one buffer, so even a fallback to one write per buffer (TLS) never splits a frame.
func (s *Socket) writeBatch(batch []*Frame) (int, error) {
	switch len(batch) {
	case 0:
		return 0, nil
	case 1:
		if batch[0] == closeFrame {
			s.closeSent.Store(true)
		}
		_, err := s.nc.Write(batch[0].b)
		return len(batch[0].b), err
	}
	total := 0
	s.iov = s.iov[:0]
	for _, f := range batch {
		if f == closeFrame {
			s.closeSent.Store(true)
		}
		s.iov = append(s.iov, f.b)
		total += len(f.b)
	}
	// WriteTo consumes s.bufs; s.iov keeps the array for the next batch.
	s.bufs = s.iov
	_, err := s.bufs.WriteTo(s.nc)
	return total, err
}

func (s *Socket) writeFailed(err error) {
	if !s.isClosing() {
		s.log.Debug("socket.io write failed; closing the connection", "error", err)
	}
	s.abort(ReasonTransportError)
}

// finish ends a graceful close once the close frame is out: shut down our half of the connection
// and give the client closeGrace to close its half.
func (s *Socket) finish() {
	if cw, ok := s.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = s.nc.SetReadDeadline(time.Now().Add(closeGrace))
}
