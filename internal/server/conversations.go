package server

// conversationRoutes registers /api/conversations and the per-conversation routes.
func (s *Server) conversationRoutes() {}
