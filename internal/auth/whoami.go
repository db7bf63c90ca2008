package auth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// WhoAmIHandler answers who the request is authenticated as, for the UI to show the user and
// offer to log out: {"authEnabled": bool, "name": ..., "scopes": [...], "via": "bearer"|"basic"|
// "session"}. It must sit behind Middleware.
func (a *Authenticator) WhoAmIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			AuthEnabled bool     `json:"authEnabled"`
			Name        string   `json:"name,omitempty"`
			Scopes      []string `json:"scopes,omitempty"`
			Via         string   `json:"via,omitempty"`
		}{AuthEnabled: a.Enabled()}
		if id, ok := FromContext(r.Context()); ok {
			out.Name, out.Via = id.Name, id.Via
			out.Scopes = strings.Split(id.Scopes.String(), ",")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(out)
	})
}
