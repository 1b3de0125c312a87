package server

import "net/http"

// OSS answers for /api/user/* (server.md §2.5). With no provider token stored each route answers
// 401 with OpenHands' bare JSON string. Calling the git providers is not implemented: with tokens
// stored the routes answer 500 with a bare string saying so, the shape OpenHands uses for provider
// failures.
const (
	tokenRequired     = "Git provider token required. (such as GitHub)."
	providerNotServed = "Git provider integration is not available on this server."
)

func (s *Server) userRoutes() {
	for path, noToken := range map[string]string{
		"GET /api/user/repositories":         tokenRequired,
		"GET /api/user/info":                 tokenRequired,
		"GET /api/user/search/repositories":  "GitHub token required.",
		"GET /api/user/suggested-tasks":      "No providers set.",
		"GET /api/user/repository/branches":  tokenRequired,
		"GET /api/user/repository/{repo...}": tokenRequired,
	} {
		s.mux.HandleFunc(path, s.userHandler(noToken))
	}
}

func (s *Server) userHandler(noToken string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sec, err := s.store.LoadSecrets()
		if err != nil {
			s.log.Error("load secrets", "err", err)
			writeJSON(w, http.StatusInternalServerError, "Error loading git provider tokens.")
			return
		}
		if len(sec.ProviderTokens) == 0 {
			writeJSON(w, http.StatusUnauthorized, noToken)
			return
		}
		writeJSON(w, http.StatusInternalServerError, providerNotServed)
	}
}
