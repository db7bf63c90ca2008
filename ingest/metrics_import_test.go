package ingest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

func TestImport(t *testing.T) {
	receive := time.Now().Truncate(time.Millisecond)
	explicit := receive.Add(-time.Minute).UnixMilli()
	for _, tc := range []struct {
		name        string
		contentType string
		query       string
		body        string
		want        map[string]storedSample
	}{
		{
			name:        "text",
			contentType: "text/plain; version=0.0.4",
			body: "# HELP jobs_done Jobs done.\n# TYPE jobs_done counter\njobs_done{kind=\"a\"} 3\n" +
				"jobs_done{kind=\"b\"} 4 " + strconv.FormatInt(explicit, 10) + "\nlast_run 1.5e9",
			want: map[string]storedSample{
				`{__name__="jobs_done", kind="a"}`: {T: receive.UnixMilli(), V: 3},
				`{__name__="jobs_done", kind="b"}`: {T: explicit, V: 4},
				`{__name__="last_run"}`:            {T: receive.UnixMilli(), V: 1.5e9},
			},
		},
		{
			name:        "openmetrics with extra labels and timestamp",
			contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8",
			query:       "?extra_label=job=backup&extra_label=kind=override&timestamp=1700000000.5",
			body: "# TYPE backups counter\nbackups_total{kind=\"full\"} 2 # {trace_id=\"abc\"} 1.0\n" +
				"# TYPE size_bytes gauge\n# UNIT size_bytes bytes\nsize_bytes 1024\n# EOF\n",
			want: map[string]storedSample{
				`{__name__="backups_total", job="backup", kind="override"}`: {T: 1700000000500, V: 2},
				`{__name__="size_bytes", job="backup", kind="override"}`:    {T: 1700000000500, V: 1024},
			},
		},
		{
			name:  "no content type",
			query: "?extra_label=instance=host-1",
			body:  "up 1\n",
			want: map[string]storedSample{
				`{__name__="up", instance="host-1"}`: {T: receive.UnixMilli(), V: 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			h := NewImportHandler(db, DefaultMetricsIngestOptions(), set, nil).(*importHandler)
			h.now = func() time.Time { return receive }
			req := httptest.NewRequest(http.MethodPost, "/api/v1/import/prometheus"+tc.query, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				b, _ := io.ReadAll(rec.Body)
				t.Fatalf("status %d: %s", rec.Code, b)
			}
			got := readSeries(t, db)
			if len(got) != len(tc.want) {
				t.Errorf("stored %v, want %d series", keysOf(got), len(tc.want))
			}
			for k, want := range tc.want {
				ss := got[k]
				if len(ss) != 1 || ss[0].T != want.T || ss[0].V != want.V {
					t.Errorf("%s = %+v, want %+v (stored: %v)", k, ss, want, keysOf(got))
				}
			}
			if n := counterValue(set, itemsName(protoImport)); n != uint64(len(tc.want)) {
				t.Errorf("items_total = %d, want %d", n, len(tc.want))
			}
		})
	}
}
