package alerting

// The Alertmanager API v2 is served by Vigil's own handlers on chi, speaking the wire shapes
// of Alertmanager's api/v2/models. Alertmanager's api/v2 package itself would need
// go-openapi/runtime, a module Vigil does not otherwise carry; the handlers below follow
// api/v2/api.go and compat.go closely (same defaults, same status codes, same validation)
// so that amtool and Prometheus cannot tell the difference.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
)

// maxAPIBody bounds request bodies of the API.
const maxAPIBody = 8 << 20

// APIHandler serves the Alertmanager API v2 at /api/v2/... (status, receivers, alerts, alert
// groups, silences) and Vigil's additions at /api/v1/alerts/groups (groups with their
// escalation and acknowledgement), /api/v1/alerts/groups/{key}/ack and
// /api/v1/alerts/notifications (delivery history). Paths are absolute: mount it at "/".
func (r *Router) APIHandler() http.Handler {
	m := chi.NewRouter()
	m.Route("/api/v2", func(m chi.Router) {
		m.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				next.ServeHTTP(w, req)
			})
		})
		m.Get("/status", r.getStatus)
		m.Get("/receivers", r.getReceivers)
		m.Get("/alerts", r.getAlerts)
		m.Post("/alerts", r.postAlerts)
		m.Get("/alerts/groups", r.getAlertGroups)
		m.Get("/silences", r.getSilences)
		m.Post("/silences", r.postSilences)
		m.Get("/silence/{id}", r.getSilence)
		m.Delete("/silence/{id}", r.deleteSilence)
	})
	m.Get("/api/v1/alerts/groups", r.getVigilGroups)
	m.Post("/api/v1/alerts/groups/{key}/ack", r.postAck)
	m.Get("/api/v1/alerts/notifications", r.getNotifications)
	return m
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes msg as a JSON string, as Alertmanager's API does for its errors.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, msg)
}

// decodeBody decodes a JSON request body into v.
func decodeBody(w http.ResponseWriter, req *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxAPIBody))
	if err := dec.Decode(v); err != nil {
		return errors.New("parse request body: " + err.Error())
	}
	return nil
}

// boolParam reads a boolean query parameter with a default, as the API's swagger spec does.
func boolParam(q url.Values, name string, def bool) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errors.New("parameter " + name + ": " + err.Error())
	}
	return b, nil
}

// parseFilter parses `filter` matchers, as api/v2 does.
func parseFilter(filters []string) ([]*labels.Matcher, error) {
	ms := make([]*labels.Matcher, 0, len(filters))
	for _, f := range filters {
		m, err := compat.Matcher(f, "api")
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// matchFilterLabels is api/v2's: a matcher on an empty value also matches a missing label.
func matchFilterLabels(matchers []*labels.Matcher, sms map[string]string) bool {
	for _, m := range matchers {
		v, prs := sms[m.Name]
		switch m.Type {
		case labels.MatchNotRegexp, labels.MatchNotEqual:
			if m.Value == "" && prs {
				continue
			}
		default:
			if m.Value == "" && !prs {
				continue
			}
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}
