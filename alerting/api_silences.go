package alerting

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/alertmanager/silence/silencepb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (r *Router) getSilences(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	matchers, err := parseFilter(q["filter"])
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var states []silence.SilenceState
	for _, p := range []struct {
		name  string
		state silence.SilenceState
	}{{"active", silence.SilenceStateActive}, {"expired", silence.SilenceStateExpired}, {"pending", silence.SilenceStatePending}} {
		on, err := boolParam(q, p.name, true)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if on {
			states = append(states, p.state)
		}
	}
	now := time.Now()
	sils, _, err := r.silences.QueryAt(req.Context(), now, silence.QState(states...))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := models.GettableSilences{}
	for _, s := range sils {
		if !silence.HasLabelMatchers(s, matchers) {
			continue
		}
		gs, err := silenceToAPI(s, now)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out = append(out, gs)
	}
	sortSilences(out)
	writeJSON(w, http.StatusOK, out)
}

func (r *Router) getSilence(w http.ResponseWriter, req *http.Request) {
	id := chi.URLParam(req, "id")
	sils, _, err := r.silences.Query(req.Context(), silence.QIDs(id))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if len(sils) == 0 {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	gs, err := silenceToAPI(sils[0], time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, gs)
}

func (r *Router) deleteSilence(w http.ResponseWriter, req *http.Request) {
	switch err := r.silences.Expire(req.Context(), chi.URLParam(req, "id")); {
	case errors.Is(err, silence.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// postSilences creates or updates a silence. A silence without matchers, with a matcher that
// matches everything, ending before it starts or already over is refused with 400.
func (r *Router) postSilences(w http.ResponseWriter, req *http.Request) {
	var in models.PostableSilence
	if err := decodeBody(w, req, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := in.Validate(strfmt.Default); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sil := silenceFromAPI(&in)
	start, end := sil.StartsAt.AsTime(), sil.EndsAt.AsTime()
	if !start.Before(end) {
		writeError(w, http.StatusBadRequest, "Failed to create silence: start time must be before end time")
		return
	}
	if end.Before(time.Now()) {
		writeError(w, http.StatusBadRequest, "Failed to create silence: end time can't be in the past")
		return
	}
	if err := r.silences.Set(req.Context(), sil); err != nil {
		code := http.StatusBadRequest // Set refuses invalid silences and exceeded limits
		if errors.Is(err, silence.ErrNotFound) {
			code = http.StatusNotFound
		}
		writeError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"silenceID": sil.Id})
}

// silenceFromAPI is api/v2's PostableSilenceToProto.
func silenceFromAPI(s *models.PostableSilence) *silencepb.Silence {
	sil := &silencepb.Silence{
		Id:          s.ID,
		StartsAt:    timestamppb.New(time.Time(*s.StartsAt)),
		EndsAt:      timestamppb.New(time.Time(*s.EndsAt)),
		Comment:     *s.Comment,
		CreatedBy:   *s.CreatedBy,
		Annotations: map[string]string{},
	}
	set := &silencepb.MatcherSet{}
	for _, m := range s.Matchers {
		isEqual, isRegex := true, false
		if m.IsEqual != nil {
			isEqual = *m.IsEqual
		}
		if m.IsRegex != nil {
			isRegex = *m.IsRegex
		}
		pm := &silencepb.Matcher{Name: *m.Name, Pattern: *m.Value}
		switch {
		case isEqual && !isRegex:
			pm.Type = silencepb.Matcher_EQUAL
		case !isEqual && !isRegex:
			pm.Type = silencepb.Matcher_NOT_EQUAL
		case isEqual && isRegex:
			pm.Type = silencepb.Matcher_REGEXP
		default:
			pm.Type = silencepb.Matcher_NOT_REGEXP
		}
		set.Matchers = append(set.Matchers, pm)
	}
	sil.MatcherSets = append(sil.MatcherSets, set)
	if s.Annotations != nil {
		sil.Annotations = s.Annotations
	}
	return sil
}

// silenceToAPI is api/v2's GettableSilenceFromProto.
func silenceToAPI(s *silencepb.Silence, now time.Time) (*models.GettableSilence, error) {
	start, end, updated := strfmt.DateTime(s.StartsAt.AsTime()), strfmt.DateTime(s.EndsAt.AsTime()), strfmt.DateTime(s.UpdatedAt.AsTime())
	state := string(silence.StateFromProtoAt(s, now))
	out := &models.GettableSilence{
		Silence: models.Silence{
			StartsAt: &start, EndsAt: &end, Matchers: models.Matchers{},
			Comment: &s.Comment, CreatedBy: &s.CreatedBy, Annotations: s.Annotations,
		},
		ID:        &s.Id,
		UpdatedAt: &updated,
		Status:    &models.SilenceStatus{State: &state},
	}
	if len(s.MatcherSets) > 1 {
		return out, fmt.Errorf("silence %q has several matcher sets, which API v2 cannot show", s.Id)
	}
	if len(s.MatcherSets) == 0 {
		return out, nil
	}
	for _, m := range s.MatcherSets[0].Matchers {
		isEqual := m.Type == silencepb.Matcher_EQUAL || m.Type == silencepb.Matcher_REGEXP
		isRegex := m.Type == silencepb.Matcher_REGEXP || m.Type == silencepb.Matcher_NOT_REGEXP
		out.Matchers = append(out.Matchers, &models.Matcher{Name: &m.Name, Value: &m.Pattern, IsEqual: &isEqual, IsRegex: &isRegex})
	}
	return out, nil
}

// sortSilences is api/v2's order: active (next to end first), pending (next to start first),
// expired (latest first).
func sortSilences(sils models.GettableSilences) {
	order := map[string]int{string(silence.SilenceStateActive): 1, string(silence.SilenceStatePending): 2, string(silence.SilenceStateExpired): 3}
	sort.Slice(sils, func(i, j int) bool {
		si, sj := *sils[i].Status.State, *sils[j].Status.State
		if si != sj {
			return order[si] < order[sj]
		}
		ei, ej := time.Time(*sils[i].EndsAt), time.Time(*sils[j].EndsAt)
		switch si {
		case string(silence.SilenceStateActive):
			return ei.Before(ej)
		case string(silence.SilenceStatePending):
			return time.Time(*sils[i].StartsAt).Before(time.Time(*sils[j].StartsAt))
		}
		return ei.After(ej)
	})
}
