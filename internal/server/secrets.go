package server

import (
	"net/http"

	"github.com/gohands/gohands/internal/storage"
)

type secretName struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type secretList struct {
	CustomSecrets []secretName `json:"custom_secrets"`
}

// handleListSecrets lists custom secret names and descriptions, never values. Names are sorted
// (OpenHands keeps insertion order; the store has none).
func (s *Server) handleListSecrets(w http.ResponseWriter, r *http.Request) {
	sec, err := s.store.LoadSecrets()
	if err != nil {
		s.log.Error("load secrets", "err", err)
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "Failed to get secret names"})
		return
	}
	out := secretList{CustomSecrets: []secretName{}}
	for _, n := range sec.CustomSecretNames() {
		out.CustomSecrets = append(out.CustomSecrets, secretName{Name: n, Description: sec.CustomSecrets[n].Description})
	}
	writeJSON(w, http.StatusOK, out)
}

// updateSecrets is the read-modify-write cycle of every secrets route: under the lock, load the
// secrets, let edit change them (or refuse with a status and body), save, and answer ok. Any
// storage failure is logged and answered 500 with fail, OpenHands' text for the route.
func (s *Server) updateSecrets(w http.ResponseWriter, fail string, okStatus int, ok any, edit func(*storage.Secrets) (status int, refusal any)) {
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	sec, err := s.store.LoadSecrets()
	if err == nil {
		if status, refusal := edit(sec); refusal != nil {
			writeJSON(w, status, refusal)
			return
		}
		err = s.store.SaveSecrets(sec)
	}
	if err != nil {
		s.log.Error("update secrets", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: fail})
		return
	}
	writeJSON(w, okStatus, ok)
}

type createSecretRequest struct {
	Name        *string `json:"name"`
	Value       *string `json:"value"`
	Description *string `json:"description"`
}

func (s *Server) handleCreateSecret(w http.ResponseWriter, r *http.Request) {
	var in createSecretRequest
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Name == nil || in.Value == nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "Fields name and value are required"})
		return
	}
	s.updateSecrets(w, "Something went wrong creating secret", http.StatusCreated, messageBody{Message: "Secret created successfully"},
		func(sec *storage.Secrets) (int, any) {
			if _, ok := sec.CustomSecrets[*in.Name]; ok {
				return http.StatusBadRequest, messageBody{Message: "Secret " + *in.Name + " already exists"}
			}
			sec.CustomSecrets[*in.Name] = storage.CustomSecret{Secret: *in.Value, Description: deref(in.Description)}
			return 0, nil
		})
}

type updateSecretRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// handleUpdateSecret renames a secret or changes its description; its value cannot be changed.
// Unlike OpenHands, an unknown id is 404 even when no secrets file exists.
func (s *Server) handleUpdateSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in updateSecretRequest
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Name == nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "Field name is required"})
		return
	}
	s.updateSecrets(w, "Something went wrong updating secret", http.StatusOK, messageBody{Message: "Secret updated successfully"},
		func(sec *storage.Secrets) (int, any) {
			cur, ok := sec.CustomSecrets[id]
			if !ok {
				return http.StatusNotFound, errorBody{Error: "Secret with ID " + id + " not found"}
			}
			if _, taken := sec.CustomSecrets[*in.Name]; taken && *in.Name != id {
				return http.StatusBadRequest, messageBody{Message: "Secret " + *in.Name + " already exists"}
			}
			delete(sec.CustomSecrets, id)
			sec.CustomSecrets[*in.Name] = storage.CustomSecret{Secret: cur.Secret, Description: deref(in.Description)}
			return 0, nil
		})
}

func (s *Server) handleDeleteSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.updateSecrets(w, "Something went wrong deleting secret", http.StatusOK, messageBody{Message: "Secret deleted successfully"},
		func(sec *storage.Secrets) (int, any) {
			if _, ok := sec.CustomSecrets[id]; !ok {
				return http.StatusNotFound, errorBody{Error: "Secret with ID " + id + " not found"}
			}
			delete(sec.CustomSecrets, id)
			return 0, nil
		})
}

type addGitProvidersRequest struct {
	ProviderTokens map[string]storage.ProviderToken `json:"provider_tokens"`
}

// handleAddGitProviders stores git provider tokens. Unlike OpenHands it does not ask the provider
// APIs whether each token is valid (no network calls here); an empty token keeps the stored one.
func (s *Server) handleAddGitProviders(w http.ResponseWriter, r *http.Request) {
	var in addGitProvidersRequest
	if !decodeBody(w, r, &in) {
		return
	}
	for name := range in.ProviderTokens {
		if !storage.KnownProvider(name) {
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "Unknown git provider " + name + ": want github, gitlab or bitbucket"})
			return
		}
	}
	s.updateSecrets(w, "Something went wrong storing git providers", http.StatusOK, messageBody{Message: "Git providers stored"},
		func(sec *storage.Secrets) (int, any) {
			tokens := make(map[string]storage.ProviderToken, len(in.ProviderTokens))
			for name, t := range in.ProviderTokens {
				if old, ok := sec.ProviderTokens[name]; ok && t.Token == "" {
					t.Token, t.UserID = old.Token, old.UserID
				}
				tokens[name] = t
			}
			sec.ProviderTokens = tokens
			return 0, nil
		})
}

func (s *Server) handleUnsetProviderTokens(w http.ResponseWriter, r *http.Request) {
	s.updateSecrets(w, "Something went wrong unsetting tokens", http.StatusOK, messageBody{Message: "Unset Git provider tokens"},
		func(sec *storage.Secrets) (int, any) {
			sec.ProviderTokens = nil
			return 0, nil
		})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
