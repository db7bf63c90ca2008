package tsdb

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// /api/v1/series without start or end (as Grafana's and amtool-style clients ask) selects
// over Prometheus's whole time range; the source must still answer it, for either
// read_recent.
func TestMergedSeriesWithoutTimeRange(t *testing.T) {
	remote := remoteAPI(t)
	for _, readRecent := range []bool{true, false} {
		t.Run(map[bool]string{true: "read_recent", false: "older_only"}[readRecent], func(t *testing.T) {
			local := openTestDB(t, t.TempDir(), DefaultOptions())
			appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "x"), 5, 12)
			m := NewMerged(local)
			m.SetSources([]*RemoteSource{source(t, "remote", remote.URL, readRecent)})
			srv := httptest.NewServer(local.APIHandler(APIOptions{Queryable: m}))
			t.Cleanup(srv.Close)
			for _, tc := range []struct {
				params url.Values
			}{
				{url.Values{"match[]": {"only_remote"}}},
				{url.Values{"match[]": {"only_remote"}, "start": {remoteBase.Add(-time.Hour).Format(time.RFC3339)}}},
				{url.Values{"match[]": {"only_remote"}, "end": {remoteBase.Add(time.Hour).Format(time.RFC3339)}}},
			} {
				resp, err := http.Get(srv.URL + "/api/v1/series?" + tc.params.Encode())
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Status   string              `json:"status"`
					Data     []map[string]string `json:"data"`
					Warnings []string            `json:"warnings"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if body.Status != "success" || len(body.Data) != 1 || body.Data[0]["job"] != "r" || len(body.Warnings) != 0 {
					t.Fatalf("series?%s = %+v, want only_remote{job=r} and no warning", tc.params.Encode(), body)
				}
			}
		})
	}
}
