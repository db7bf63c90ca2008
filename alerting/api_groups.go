package alerting

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/dispatch"
)

// GroupState is one firing aggregation group as GET /api/v1/alerts/groups shows it.
type GroupState struct {
	ID               string            `json:"id"` // GroupID(Key): what the ack endpoint accepts
	Key              string            `json:"key"`
	Receiver         string            `json:"receiver"`
	Labels           map[string]string `json:"labels"`
	Alerts           int               `json:"alerts"`
	FiringSince      time.Time         `json:"firingSince"`
	EscalationPolicy string            `json:"escalationPolicy,omitempty"`
	Acknowledged     *Ack              `json:"acknowledged,omitempty"`
}

func (r *Router) getVigilGroups(w http.ResponseWriter, req *http.Request) {
	groups, _, err := r.groups(req.Context(), func(*dispatch.Route) bool { return true },
		func(a *alert.Alert, _ time.Time) (alert.AlertStatus, bool) { return alert.AlertStatus{}, !a.Resolved() })
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	out := make([]GroupState, 0, len(groups))
	for _, g := range groups {
		gs := GroupState{
			ID: GroupID(g.GroupKey), Key: g.GroupKey, Receiver: g.Receiver,
			Labels: labelMap(g.Labels), Alerts: len(g.Alerts),
			EscalationPolicy: string(g.RouteLabels[EscalationPolicyLabel]),
		}
		for i, a := range g.Alerts {
			if i == 0 || a.StartsAt.Before(gs.FiringSince) {
				gs.FiringSince = a.StartsAt
			}
		}
		if a, ok := r.acks.get(g.GroupKey); ok {
			gs.Acknowledged = &a
		}
		out = append(out, gs)
	}
	writeJSON(w, http.StatusOK, out)
}

// postAck is POST /api/v1/alerts/groups/{key}/ack; key is a GroupID or a URL-escaped group
// key. An optional JSON body {"by": "..."} names who acknowledged.
func (r *Router) postAck(w http.ResponseWriter, req *http.Request) {
	key, err := url.PathUnescape(chi.URLParam(req, "key"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad group key: "+err.Error())
		return
	}
	var body struct {
		By string `json:"by"`
	}
	if req.ContentLength != 0 {
		if err := decodeBody(w, req, &body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	gk, err := r.Ack(req.Context(), key, body.By)
	switch {
	case errors.Is(err, ErrGroupNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]string{"id": GroupID(gk), "key": gk})
	}
}

func (r *Router) getNotifications(w http.ResponseWriter, req *http.Request) {
	writeJSON(w, http.StatusOK, r.history.list())
}
