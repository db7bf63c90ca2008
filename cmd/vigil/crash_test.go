package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// TestKill9KeepsAcknowledgedSamples writes through remote write while the process is killed
// with SIGKILL, restarts it on the same data directory, and checks that every sample that got
// a 2xx is there.
func TestKill9KeepsAcknowledgedSamples(t *testing.T) {
	dataDir := t.TempDir()
	p := startVigil(t, "--data-dir", dataDir)
	base := "http://" + p.waitReady(t)

	var (
		mu    sync.Mutex
		acked []int
		wg    sync.WaitGroup
	)
	stopWriting := make(chan struct{})
	start := time.Now()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; ; i += 4 {
				select {
				case <-stopWriting:
					return
				default:
				}
				err := remoteWriteV1(t, base, prompb.TimeSeries{
					Labels:  []prompb.Label{{Name: "__name__", Value: "crash_test"}, {Name: "batch", Value: fmt.Sprint(i)}},
					Samples: []prompb.Sample{{Value: float64(i), Timestamp: start.UnixMilli() + int64(i)}},
				})
				if err == nil {
					mu.Lock()
					acked = append(acked, i)
					mu.Unlock()
				}
				if i > 100_000 {
					return // bounded, whatever happens
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.waitExit(t, 5*time.Second)
	close(stopWriting)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged before the kill; the test proves nothing", len(acked))
	}

	p2 := startVigil(t, "--data-dir", dataDir)
	base = "http://" + p2.waitReady(t)
	resp, err := http.PostForm(base+"/api/v1/series", url.Values{
		"match[]": {"crash_test"},
		"start":   {fmt.Sprint(start.Add(-time.Minute).Unix())},
		"end":     {fmt.Sprint(time.Now().Add(time.Minute).Unix())},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data []map[string]string
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range r.Data {
		have[s["batch"]] = true
	}
	lost := 0
	for _, i := range acked {
		if !have[fmt.Sprint(i)] {
			lost++
		}
	}
	t.Logf("acknowledged %d writes before SIGKILL, found %d series after restart, lost %d", len(acked), len(have), lost)
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost", lost)
	}
}

// TestKill9KeepsAcknowledgedLogLines is the same for log lines: every line that got a 2xx
// is searchable after a SIGKILL and a restart.
func TestKill9KeepsAcknowledgedLogLines(t *testing.T) {
	dataDir := t.TempDir()
	p := startVigil(t, "--data-dir", dataDir)
	base := "http://" + p.waitReady(t)

	const maxLines = 4000 // one query page holds them all
	start := time.Now().UTC()
	acked := postLinesUntilKilled(t, p, base, "crash", start, maxLines)

	p2 := startVigil(t, "--data-dir", dataDir)
	base = "http://" + p2.waitReady(t)
	u := fmt.Sprintf("%s/api/v1/logs/query?q=service:crash&start=%d&end=%d&limit=5000", base,
		start.Add(-time.Minute).Unix(), time.Now().Add(time.Minute).Unix())
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Lines []struct{ Raw string }
			Total int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for _, l := range r.Data.Lines {
		var rec struct{ N int }
		if err := json.Unmarshal([]byte(l.Raw), &rec); err == nil {
			have[rec.N] = true
		}
	}
	lost := 0
	for _, i := range acked {
		if !have[i] {
			lost++
		}
	}
	t.Logf("acknowledged %d lines before SIGKILL, found %d after restart, lost %d", len(acked), len(have), lost)
	if lost > 0 {
		t.Fatalf("%d acknowledged lines lost", lost)
	}
}

// postLinesUntilKilled posts log lines of service numbered 0..maxLines-1 from 4 writers, one
// line per request, kills p with SIGKILL after 1.5 s and returns the numbers of the lines that
// got a 200 before it died.
func postLinesUntilKilled(t *testing.T, p *proc, base, service string, start time.Time, maxLines int) []int {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []int
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := w; i < maxLines; i += 4 {
				line := fmt.Sprintf(`{"ts":%q,"service":%q,"msg":"line before a kill","n":%d}`, start.Format(time.RFC3339Nano), service, i)
				resp, err := client.Post(base+"/api/v1/logs", "application/x-ndjson", strings.NewReader(line))
				if err != nil {
					return // the process is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, i)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.waitExit(t, 5*time.Second)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d lines acknowledged before the kill; the test proves nothing", len(acked))
	}
	return acked
}
