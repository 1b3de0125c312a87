package socketio

import "sync/atomic"

// room is a set of sockets that receive the same broadcasts.
type room struct {
	// members is replaced, never changed in place where a reader could look: Broadcast loads it
	// without a lock and iterates a consistent snapshot. Writers hold Server.roomsMu.
	members atomic.Pointer[[]*Socket]
}

func (r *room) snapshot() []*Socket {
	if m := r.members.Load(); m != nil {
		return *m
	}
	return nil
}

// Join adds the socket to a room. Joining a room twice, or joining after the socket closed, does
// nothing.
func (s *Socket) Join(name string) {
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	if s.roomsLeft {
		return
	}
	if _, ok := s.rooms[name]; ok {
		return
	}
	if s.rooms == nil {
		s.rooms = make(map[string]struct{})
	}
	s.rooms[name] = struct{}{}
	s.srv.addMember(name, s)
}

// Leave removes the socket from a room.
func (s *Socket) Leave(name string) {
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	if _, ok := s.rooms[name]; !ok {
		return
	}
	delete(s.rooms, name)
	s.srv.removeMember(name, s)
}

// leaveAll removes the socket from every room, for good.
func (s *Socket) leaveAll() {
	s.roomsMu.Lock()
	rooms := s.rooms
	s.rooms = nil
	s.roomsLeft = true
	s.roomsMu.Unlock()
	for name := range rooms {
		s.srv.removeMember(name, s)
	}
}

func (srv *Server) addMember(name string, s *Socket) {
	srv.roomsMu.Lock()
	defer srv.roomsMu.Unlock()
	r := srv.rooms[name]
	if r == nil {
		r = &room{}
		srv.rooms[name] = r
	}
	// Appending may write into the spare capacity of the array the current snapshot uses; readers
	// of that snapshot never look past its length, and removals always copy, so that is safe.
	m := append(r.snapshot(), s)
	r.members.Store(&m)
}

func (srv *Server) removeMember(name string, s *Socket) {
	srv.roomsMu.Lock()
	defer srv.roomsMu.Unlock()
	r := srv.rooms[name]
	if r == nil {
		return
	}
	old := r.snapshot()
	if len(old) <= 1 {
		if len(old) == 0 || old[0] == s {
			delete(srv.rooms, name)
			r.members.Store(nil)
		}
		return
	}
	m := make([]*Socket, 0, len(old)-1)
	for _, o := range old {
		if o != s {
			m = append(m, o)
		}
	}
	r.members.Store(&m)
}

func (srv *Server) members(name string) []*Socket {
	srv.roomsMu.RLock()
	r := srv.rooms[name]
	srv.roomsMu.RUnlock()
	if r == nil {
		return nil
	}
	return r.snapshot()
}

// Broadcast queues f on every socket in the room. It never blocks on the network.
func (srv *Server) Broadcast(room string, f *Frame) {
	for _, s := range srv.members(room) {
		s.Send(f)
	}
}

// RoomSize reports how many sockets are in the room.
func (srv *Server) RoomSize(room string) int {
	return len(srv.members(room))
}

// DisconnectRoom disconnects every socket in the room (see Socket.Disconnect).
func (srv *Server) DisconnectRoom(room string) {
	for _, s := range srv.members(room) {
		s.Disconnect()
	}
}
