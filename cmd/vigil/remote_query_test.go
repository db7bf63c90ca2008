package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// queryRange runs a range query and returns the one series' values by timestamp (seconds),
// the warnings and the sources header.
func queryRange(t *testing.T, base, q string, start, end time.Time, step time.Duration) (map[int64]float64, []string, string) {
	t.Helper()
	resp, err := http.PostForm(base+"/api/v1/query_range", url.Values{
		"query": {q},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status   string
		Warnings []string
		Data     struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query_range %s: %d %s (%v)", q, resp.StatusCode, body, err)
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("query_range %s: %d series, want at most 1", q, len(r.Data.Result))
	}
	out := map[int64]float64{}
	for _, s := range r.Data.Result {
		for _, p := range s.Values {
			v, _ := strconv.ParseFloat(fmt.Sprint(p[1]), 64)
			out[int64(p[0].(float64))] = v
		}
	}
	return out, r.Warnings, resp.Header.Get("X-Vigil-Sources")
}

// TestQueryRangeMergesLocalAndVictoriaMetrics: PromQL over /api/v1/query_range sees
// VictoriaMetrics' history and Vigil's recent samples as one series, the 11 minutes both
// hold counted once; with VictoriaMetrics down the answer is the local part and a warning.
func TestQueryRangeMergesLocalAndVictoriaMetrics(t *testing.T) {
	vm := startVictoriaMetrics(t)
	origin := time.Now().Truncate(time.Minute)
	minute := func(i int) time.Time { return origin.Add(time.Duration(i) * time.Minute) }
	value := func(i int) float64 { return float64(1000 + i) }
	have := map[int]bool{} // minutes held by either side

	// History in VictoriaMetrics: minutes -180..-30.
	hist := importLine{Metric: map[string]string{"__name__": "merge_test", "job": "c"}}
	for i := -180; i <= -30; i++ {
		hist.Timestamps = append(hist.Timestamps, minute(i).UnixMilli())
		hist.Values = append(hist.Values, value(i))
		have[i] = true
	}
	vm.importLines(importBody(t, hist))

	c, cfg := configIn(t, t.TempDir(), fmt.Sprintf(`
metrics:
  out_of_order_window: 1h   # the last 40 minutes arrive after Vigil's own first samples
query:
  metrics_sources:
    - name: vm
      url: %s
      read_recent: true     # asked for the range Vigil holds too: the overlap must collapse
`, vm.url()))
	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	// Recent samples in Vigil: minutes -40..0, of which -40..-30 are in both.
	var recent []prompb.Sample
	for i := -40; i <= 0; i++ {
		recent = append(recent, prompb.Sample{Timestamp: minute(i).UnixMilli(), Value: value(i)})
		have[i] = true
	}
	if err := remoteWriteV1(t, base, prompb.TimeSeries{
		Labels:  []prompb.Label{{Name: "__name__", Value: "merge_test"}, {Name: "job", Value: "c"}},
		Samples: recent,
	}); err != nil {
		t.Fatal(err)
	}

	// Over every 10 minutes: each minute held counts once, with its own value.
	wantCount := func(end int) (n, sum float64) {
		for i := end - 9; i <= end; i++ {
			if have[i] {
				n++
				sum += value(i)
			}
		}
		return n, sum
	}
	counts, warns, sources := queryRange(t, base, "count_over_time(merge_test[10m])", minute(-185), minute(0), time.Minute)
	sums, _, _ := queryRange(t, base, "sum_over_time(merge_test[10m])", minute(-185), minute(0), time.Minute)
	if len(warns) != 0 || sources != "local=ok, vm=ok" {
		t.Errorf("warnings %q, X-Vigil-Sources %q; want none and local=ok, vm=ok", warns, sources)
	}
	for i := -185; i <= 0; i++ {
		ts := minute(i).Unix()
		n, sum := wantCount(i)
		if counts[ts] != n || sums[ts] != sum {
			t.Errorf("minute %d: %v samples summing to %v, want %v summing to %v", i, counts[ts], sums[ts], n, sum)
		}
	}

	okReqs := `vigil_metrics_source_requests_total{source="vm",result="ok"}`
	if v := metricValue(t, base, okReqs); v < 2 {
		t.Errorf("%s = %v, want at least the 2 range queries", okReqs, v)
	}

	// VictoriaMetrics down: the local part, a warning naming it, no error.
	vm.stop()
	counts, warns, sources = queryRange(t, base, "count_over_time(merge_test[10m])", minute(-185), minute(0), time.Minute)
	if len(warns) == 0 || !strings.Contains(warns[0], "metrics source vm") || sources != "local=ok, vm=error" {
		t.Errorf("with VictoriaMetrics down: warnings %q, X-Vigil-Sources %q; want a warning naming vm and vm=error", warns, sources)
	}
	if counts[minute(-100).Unix()] != 0 || counts[minute(-36).Unix()] != 5 || counts[minute(0).Unix()] != 10 {
		t.Errorf("with VictoriaMetrics down, counts at -100, -36, 0 = %v, %v, %v; want 0, 5, 10 (the local samples)",
			counts[minute(-100).Unix()], counts[minute(-36).Unix()], counts[minute(0).Unix()])
	}
	if v := metricValue(t, base, `vigil_metrics_source_requests_total{source="vm",result="error"}`); v < 1 {
		t.Errorf("requests to vm that failed = %v, want at least 1", v)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
