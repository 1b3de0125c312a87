package server

// staticRoutes registers the frontend at /.
func (s *Server) staticRoutes() {}
