package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gohands/gohands/internal/storage"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 1 << 20

// decodeBody reads r's JSON body into v. On failure it writes the error response itself and
// returns false: 400 for unreadable or malformed JSON, 422 for well-formed JSON of the wrong shape
// (FastAPI's validation status). Messages never quote the body, which may hold keys.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Could not read request body"})
		return false
	}
	if !json.Valid(data) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Malformed JSON in request body"})
		return false
	}
	if err := json.Unmarshal(data, v); err != nil {
		msg := "Invalid request body"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			msg = fmt.Sprintf("Invalid request body: field %q must be %s", te.Field, te.Type)
		}
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: msg})
		return false
	}
	return true
}

// settingsResponse is GET /api/settings: the stored Settings with every secret nulled, plus
// whether each secret is set.
type settingsResponse struct {
	storage.Settings
	ProviderTokensSet map[string]*string `json:"provider_tokens_set"`
	LLMAPIKeySet      bool               `json:"llm_api_key_set"`
	SearchAPIKeySet   bool               `json:"search_api_key_set"`
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) {
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	st, err := s.store.LoadSettings()
	if errors.Is(err, storage.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "Settings not found"})
		return
	}
	if err != nil {
		s.log.Error("load settings", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong loading settings"})
		return
	}
	if err := s.migrateLegacyTokens(st); err != nil {
		s.log.Error("migrate provider tokens from settings", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong loading settings"})
		return
	}
	sec, err := s.store.LoadSecrets()
	if err != nil {
		s.log.Error("load secrets", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong loading settings"})
		return
	}
	resp := settingsResponse{
		Settings:          *st,
		ProviderTokensSet: map[string]*string{},
		LLMAPIKeySet:      st.LLMAPIKey != nil && *st.LLMAPIKey != "",
		SearchAPIKeySet:   st.SearchAPIKey != nil && *st.SearchAPIKey != "",
	}
	for name, t := range sec.ProviderTokens {
		if t.Token != "" || t.UserID != nil {
			resp.ProviderTokensSet[name] = t.Host
		}
	}
	resp.LLMAPIKey, resp.SearchAPIKey, resp.SandboxAPIKey = nil, nil, nil
	resp.SecretsStore = storage.SecretsStore{}
	writeJSON(w, http.StatusOK, resp)
}

// migrateLegacyTokens moves provider tokens still kept in settings.json's secrets_store into the
// secrets store and wipes them from settings. Unlike OpenHands, which writes a fresh secrets file
// holding only those tokens, custom secrets already stored are kept. Callers hold secretsMu.
func (s *Server) migrateLegacyTokens(st *storage.Settings) error {
	if len(st.SecretsStore.ProviderTokens) == 0 {
		return nil
	}
	sec, err := s.store.LoadSecrets()
	if err != nil {
		return err
	}
	for name, t := range st.SecretsStore.ProviderTokens {
		if storage.KnownProvider(name) && t.Token != "" {
			sec.ProviderTokens[name] = t
		}
	}
	if err := s.store.SaveSecrets(sec); err != nil {
		return err
	}
	st.SecretsStore.ProviderTokens = nil
	return s.store.SaveSettings(st)
}

// handlePostSettings stores the posted Settings. Absent fields take the model defaults, except the
// five OpenHands keeps from the stored copy when the request has null or nothing: llm_api_key,
// llm_model, llm_base_url, search_api_key and user_consents_to_analytics. Unknown keys are ignored.
func (s *Server) handlePostSettings(w http.ResponseWriter, r *http.Request) {
	var in storage.Settings
	if !decodeBody(w, r, &in) {
		return
	}
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	old, err := s.store.LoadSettings()
	switch {
	case err == nil:
		in.LLMAPIKey = keep(in.LLMAPIKey, old.LLMAPIKey)
		in.LLMModel = keep(in.LLMModel, old.LLMModel)
		in.LLMBaseURL = keep(in.LLMBaseURL, old.LLMBaseURL)
		in.SearchAPIKey = keep(in.SearchAPIKey, old.SearchAPIKey)
		in.UserConsentsToAnalytics = keep(in.UserConsentsToAnalytics, old.UserConsentsToAnalytics)
	case errors.Is(err, storage.ErrNotFound):
	default:
		s.log.Error("load settings", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong storing settings"})
		return
	}
	// Provider tokens live in the secrets store; the request never sets them here.
	in.SecretsStore = storage.SecretsStore{}
	if err := s.store.SaveSettings(&in); err != nil {
		s.log.Error("save settings", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Something went wrong storing settings"})
		return
	}
	writeJSON(w, http.StatusOK, messageBody{Message: "Settings stored"})
}

func keep[T any](in, stored *T) *T {
	if in == nil {
		return stored
	}
	return in
}

// handleResetSettings answers as OpenHands 0.50 does: the feature was removed.
func (s *Server) handleResetSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusGone, errorBody{Error: "Reset settings functionality has been removed."})
}
