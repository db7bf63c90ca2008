package alerting

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/vigilhq/vigil/internal/buildinfo"
)

func (r *Router) getStatus(w http.ResponseWriter, req *http.Request) {
	cfg, _, _ := r.current()
	original := cfg.am.String()
	uptime := strfmt.DateTime(r.startTime())
	cs := r.ClusterStatus()
	cluster := &models.ClusterStatus{Name: cs.Name, Status: &cs.Status, Peers: []*models.PeerStatus{}}
	for _, p := range cs.Peers {
		cluster.Peers = append(cluster.Peers, &models.PeerStatus{Name: &p.Name, Address: &p.Address})
	}
	// Vigil's own build, copied: the buildinfo variables are set by the linker, not by us.
	ver, rev, branch, date, user, goVer := buildinfo.Version, buildinfo.Commit, buildinfo.Branch, buildinfo.BuildDate, "vigil", runtime.Version()
	writeJSON(w, http.StatusOK, &models.AlertmanagerStatus{
		Uptime: &uptime,
		VersionInfo: &models.VersionInfo{
			Version: &ver, Revision: &rev, Branch: &branch, BuildUser: &user, BuildDate: &date, GoVersion: &goVer,
		},
		Config:  &models.AlertmanagerConfig{Original: &original},
		Cluster: cluster,
	})
}

func (r *Router) getReceivers(w http.ResponseWriter, req *http.Request) {
	cfg, _, _ := r.current()
	out := make([]*models.Receiver, 0, len(cfg.am.Receivers))
	for i := range cfg.am.Receivers {
		rc := &cfg.am.Receivers[i]
		out = append(out, &models.Receiver{Name: &rc.Name, Labels: models.LabelSet(rc.Labels)})
	}
	writeJSON(w, http.StatusOK, out)
}

// postAlerts is POST /api/v2/alerts, as a Prometheus server sends it.
func (r *Router) postAlerts(w http.ResponseWriter, req *http.Request) {
	var in models.PostableAlerts
	if err := decodeBody(w, req, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := in.Validate(strfmt.Default); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	alerts := make([]*alert.Alert, 0, len(in))
	for _, a := range in {
		alerts = append(alerts, &alert.Alert{Alert: model.Alert{
			Labels:       apiToModelLabels(a.Labels),
			Annotations:  apiToModelLabels(a.Annotations),
			StartsAt:     time.Time(a.StartsAt),
			EndsAt:       time.Time(a.EndsAt),
			GeneratorURL: string(a.GeneratorURL),
		}})
	}
	switch err := r.PutAlerts(req.Context(), alerts...); {
	case errors.Is(err, ErrInvalidAlert):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// alertQuery is the filter of GET /api/v2/alerts and /api/v2/alerts/groups.
type alertQuery struct {
	matchers                                   []*labels.Matcher
	receiver                                   *regexp.Regexp
	active, silenced, inhibited, unproc, muted bool
}

func parseAlertQuery(req *http.Request) (alertQuery, error) {
	q := req.URL.Query()
	var (
		aq  alertQuery
		err error
	)
	if aq.matchers, err = parseFilter(q["filter"]); err != nil {
		return aq, err
	}
	if s := q.Get("receiver"); s != "" {
		if aq.receiver, err = regexp.Compile("^(?:" + s + ")$"); err != nil {
			return aq, errors.New("failed to parse receiver param: " + err.Error())
		}
	}
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"active", &aq.active}, {"silenced", &aq.silenced}, {"inhibited", &aq.inhibited},
		{"unprocessed", &aq.unproc}, {"muted", &aq.muted}} {
		if *p.dst, err = boolParam(q, p.name, true); err != nil {
			return aq, err
		}
	}
	return aq, nil
}

// filter is api/v2's alertFilter: it drops resolved alerts and those the query excludes, and
// predicts each alert's status by asking the inhibitor and the silencer now.
func (r *Router) alertFilter(ctx context.Context, aq alertQuery) dispatch.AlertFilter {
	_, _, inhibitor := r.current()
	return func(a *alert.Alert, now time.Time) (alert.AlertStatus, bool) {
		if !a.EndsAt.IsZero() && a.EndsAt.Before(now) {
			return alert.AlertStatus{}, false
		}
		if !matchFilterLabels(aq.matchers, labelMap(a.Labels)) {
			return alert.AlertStatus{}, false
		}
		var c statusCollector
		mctx := marker.WithContext(ctx, &c)
		if inhibitor != nil {
			inhibitor.Mutes(mctx, a.LabelSet())
		}
		r.silencer.Mutes(mctx, a.LabelSet())
		st := c.status()
		switch {
		case !aq.active && st.State == alert.AlertStateActive,
			!aq.silenced && len(st.SilencedBy) != 0,
			!aq.inhibited && len(st.InhibitedBy) != 0,
			!aq.unproc && st.State == alert.AlertStateUnprocessed:
			return st, false
		}
		return st, true
	}
}

func (r *Router) getAlerts(w http.ResponseWriter, req *http.Request) {
	aq, err := parseAlertQuery(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cfg, _, _ := r.current()
	routes := dispatch.NewRoute(cfg.am.Route, nil)
	filter := r.alertFilter(req.Context(), aq)
	now := time.Now()
	res := models.GettableAlerts{}
	it := r.alerts.GetPending()
	defer it.Close()
	for pa := range it.Next() {
		a := pa.Data
		if err := req.Context().Err(); err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		var receivers []string
		for _, rt := range routes.Match(a.Labels) {
			receivers = append(receivers, rt.RouteOpts.Receiver)
		}
		if aq.receiver != nil && !slices.ContainsFunc(receivers, aq.receiver.MatchString) {
			continue
		}
		st, ok := filter(a, now)
		if !ok {
			continue
		}
		res = append(res, toAPIAlert(a, st, receivers, nil))
	}
	if err := it.Err(); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sort.Slice(res, func(i, j int) bool { return *res[i].Fingerprint < *res[j].Fingerprint })
	writeJSON(w, http.StatusOK, res)
}

func (r *Router) getAlertGroups(w http.ResponseWriter, req *http.Request) {
	aq, err := parseAlertQuery(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rf := func(rt *dispatch.Route) bool {
		return aq.receiver == nil || aq.receiver.MatchString(rt.RouteOpts.Receiver)
	}
	groups, receivers, err := r.groups(req.Context(), rf, r.alertFilter(req.Context(), aq))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	res := make(models.AlertGroups, 0, len(groups))
	for _, g := range groups {
		mutedBy := g.MutedBy()
		if !aq.muted && len(mutedBy) > 0 {
			continue
		}
		ag := &models.AlertGroup{
			Receiver:    &models.ReceiverReference{Name: &g.Receiver},
			Labels:      modelToAPILabels(g.Labels),
			RouteLabels: modelToAPILabels(g.RouteLabels),
			Alerts:      make([]*models.GettableAlert, 0, len(g.Alerts)),
		}
		for _, a := range g.Alerts {
			st, ok := g.AlertStatuses[a.Fingerprint()]
			if !ok {
				st = alert.AlertStatus{State: alert.AlertStateUnprocessed}
			}
			ag.Alerts = append(ag.Alerts, toAPIAlert(a, st, receivers[a.Fingerprint()], mutedBy))
		}
		res = append(res, ag)
	}
	writeJSON(w, http.StatusOK, res)
}

// toAPIAlert is api/v2's AlertToOpenAPIAlert.
func toAPIAlert(a *alert.Alert, st alert.AlertStatus, receivers, mutedBy []string) *models.GettableAlert {
	starts, updated, ends := strfmt.DateTime(a.StartsAt), strfmt.DateTime(a.UpdatedAt), strfmt.DateTime(a.EndsAt)
	refs := make([]*models.ReceiverReference, 0, len(receivers))
	for i := range receivers {
		refs = append(refs, &models.ReceiverReference{Name: &receivers[i]})
	}
	fp := a.Fingerprint().String()
	state := string(st.State)
	if len(mutedBy) > 0 {
		state = models.AlertStatusStateSuppressed
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return &models.GettableAlert{
		Alert: models.Alert{
			GeneratorURL: strfmt.URI(a.GeneratorURL),
			Labels:       modelToAPILabels(a.Labels),
		},
		Annotations: modelToAPILabels(a.Annotations),
		StartsAt:    &starts,
		UpdatedAt:   &updated,
		EndsAt:      &ends,
		Fingerprint: &fp,
		Receivers:   refs,
		Status: &models.AlertStatus{
			State:       &state,
			SilencedBy:  nonNil(st.SilencedBy),
			InhibitedBy: nonNil(st.InhibitedBy),
			MutedBy:     nonNil(mutedBy),
		},
	}
}

func modelToAPILabels(ls model.LabelSet) models.LabelSet {
	out := make(models.LabelSet, len(ls))
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

func apiToModelLabels(ls models.LabelSet) model.LabelSet {
	out := make(model.LabelSet, len(ls))
	for k, v := range ls {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}

func labelMap(ls model.LabelSet) map[string]string {
	out := make(map[string]string, len(ls))
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

// statusCollector is api/v2's: a marker.AlertMarker capturing one pipeline run for one alert,
// since the inhibitor and silencer report who mutes an alert only through a marker.
type statusCollector struct {
	processed   bool
	silencedBy  []string
	inhibitedBy []string
}

var _ marker.AlertMarker = (*statusCollector)(nil)

func (c *statusCollector) SetSilenced(_ model.Fingerprint, ids []string) {
	c.processed, c.silencedBy = true, ids
}

func (c *statusCollector) SetInhibited(_ model.Fingerprint, ids []string) {
	c.processed, c.inhibitedBy = true, ids
}

func (c *statusCollector) Status(model.Fingerprint) alert.AlertStatus { return c.status() }
func (c *statusCollector) Delete(...model.Fingerprint)                { *c = statusCollector{} }

func (c *statusCollector) status() alert.AlertStatus {
	s := alert.AlertStatus{State: alert.AlertStateUnprocessed, SilencedBy: []string{}, InhibitedBy: []string{}}
	if !c.processed {
		return s
	}
	s.State = alert.AlertStateActive
	if len(c.silencedBy) > 0 || len(c.inhibitedBy) > 0 {
		s.State = alert.AlertStateSuppressed
	}
	if c.silencedBy != nil {
		s.SilencedBy = c.silencedBy
	}
	if c.inhibitedBy != nil {
		s.InhibitedBy = c.inhibitedBy
	}
	return s
}
