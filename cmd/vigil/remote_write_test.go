package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// metricValue reads one sample of Vigil's /metrics (-1 when absent).
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	_, body := get(t, base+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestRemoteWriteIntoVictoriaMetrics: remote_write added by a reload forwards every sample
// Vigil ingests into VictoriaMetrics; VictoriaMetrics stopped for 12s while ingest goes on
// (the 60s, shortened to keep the suite quick: the queue manager's behaviour does
// not change with the length, only the backlog does; VIGIL_TEST_REMOTE_OUTAGE=60s runs the
// issue's) gets the gap from the WAL when it returns.
func TestRemoteWriteIntoVictoriaMetrics(t *testing.T) {
	outageFor := 12 * time.Second
	if v := os.Getenv("VIGIL_TEST_REMOTE_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("VIGIL_TEST_REMOTE_OUTAGE: %v", err)
		}
		outageFor = d
	}
	vm := startVictoriaMetrics(t)
	dir := t.TempDir()
	c, cfg := configIn(t, dir, "")
	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	// remote_write arrives by reload.
	body, err := os.ReadFile(filepath.Join(dir, "vigil.yml"))
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, fmt.Sprintf(`
remote_write:
  - name: vm
    url: %s/api/v1/write
    queue_config: {batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s}
`, vm.url())...)
	if err := os.WriteFile(filepath.Join(dir, "vigil.yml"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("reload: %d", resp.StatusCode)
	}
	sent := `prometheus_remote_storage_samples_total{remote_name="vm",url="` + vm.url() + `/api/v1/write"}`
	eventually(t, "the vm queue in /metrics", func() bool { return metricValue(t, base, sent) >= 0 })

	const nSeries = 10
	counts := map[string]int{}
	sums := map[string]float64{}
	round := 0
	write := func(until time.Time) {
		t.Helper()
		for ; time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
			ts := time.Now().UnixMilli()
			var series []prompb.TimeSeries
			for i := range nSeries {
				id := strconv.Itoa(i)
				series = append(series, prompb.TimeSeries{
					Labels:  []prompb.Label{{Name: "__name__", Value: "vm_forward_test"}, {Name: "series", Value: id}},
					Samples: []prompb.Sample{{Timestamp: ts, Value: float64(round)}},
				})
				counts[id]++
				sums[id] += float64(round)
			}
			if err := remoteWriteV1(t, base, series...); err != nil {
				t.Fatalf("remote write into vigil: %v", err)
			}
			round++
		}
	}
	begin := time.Now()
	write(time.Now().Add(3 * time.Second))
	vm.stop()
	outage := time.Now()
	write(time.Now().Add(outageFor))
	retried := `prometheus_remote_storage_samples_retried_total{remote_name="vm",url="` + vm.url() + `/api/v1/write"}`
	if v := metricValue(t, base, retried); v <= 0 {
		t.Errorf("%s = %v during the outage, want > 0", retried, v)
	}
	vm.start()
	restarted := time.Now()
	write(time.Now().Add(2 * time.Second))
	total := round * nSeries

	// Every sample arrives, the outage's from the WAL: each series' count and sum match.
	check := func() (bool, string) {
		vm.flush()
		at := time.Now()
		rng := fmt.Sprintf("[%dms]", at.Sub(begin).Milliseconds()+60_000)
		gotCounts, _ := instantQuery(t, vm.url(), "count_over_time(vm_forward_test"+rng+")", at)
		gotSums, _ := instantQuery(t, vm.url(), "sum_over_time(vm_forward_test"+rng+")", at)
		var diffs []string
		for id, want := range counts {
			key := toLabelSet(map[string]string{"series": id}).String()
			if gotCounts[key] != float64(want) || gotSums[key] != sums[id] {
				diffs = append(diffs, fmt.Sprintf("series %s: %v samples summing to %v, want %d summing to %v", id, gotCounts[key], gotSums[key], want, sums[id]))
			}
		}
		return len(diffs) == 0, strings.Join(diffs, "; ")
	}
	var why string
	caughtUp := false
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var ok bool
		if ok, why = check(); ok {
			caughtUp = true
			break
		}
	}
	if !caughtUp {
		t.Fatalf("VictoriaMetrics never got every sample: %s", why)
	}
	t.Logf("%d samples of %d series written to vigil over %.1fs, %.1fs of it with VictoriaMetrics down; all of them in VictoriaMetrics %.1fs after it restarted; the queue sent %v samples (the test's and Vigil's self-scrape)",
		total, nSeries, time.Since(begin).Seconds(), restarted.Sub(outage).Seconds(), time.Since(restarted).Seconds(), metricValue(t, base, sent))
	if v := metricValue(t, base, sent); v < float64(total) {
		t.Errorf("%s = %v, want at least the %d test samples", sent, v, total)
	}
	// The queues are told what arrives (their shard count follows it), as Prometheus's
	// fanout appender tells them.
	if v := metricValue(t, base, "prometheus_remote_storage_highest_timestamp_in_seconds"); v < float64(begin.Unix()) {
		t.Errorf("prometheus_remote_storage_highest_timestamp_in_seconds = %v, want at least %d", v, begin.Unix())
	}

	// A reload without the remote stops its queue (and its metrics go with it).
	plain, _, _ := strings.Cut(string(body), "\nremote_write:")
	if err := os.WriteFile(filepath.Join(dir, "vigil.yml"), []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, err = http.Post(base+"/-/reload", "", nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := metricValue(t, base, sent); resp.StatusCode != 200 || v != -1 {
		t.Errorf("after a reload without remote_write: status %d, %s = %v, want 200 and no such series", resp.StatusCode, sent, v)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
