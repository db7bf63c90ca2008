// Package readback reads back from a running Vigil what a benchmark wrote, through its query
// APIs, so that bench/crash and bench/overload check acknowledged items the same way.
package readback

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// GetJSON decodes the answer to GET u into out. A 404 leaves out as it was (nothing stored);
// any other non-200 is an error carrying the start of the body.
func GetJSON(ctx context.Context, c *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return json.NewDecoder(resp.Body).Decode(out)
	case http.StatusNotFound:
		return nil
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
}

// LogFieldValues counts the stored log lines matching q in [start, end), by the value of
// field (at most limit values), from the log API's field values endpoint.
func LogFieldValues(ctx context.Context, c *http.Client, base, field, q string, start, end time.Time, limit int) (map[string]int64, error) {
	var r struct {
		Data struct {
			Values []struct {
				Value string `json:"value"`
				Count int64  `json:"count"`
			} `json:"values"`
		} `json:"data"`
	}
	u := base + "/api/v1/logs/field/" + url.PathEscape(field) + "/values?" + url.Values{
		"q": {q}, "limit": {fmt.Sprint(limit)},
		"start": {start.Format(time.RFC3339Nano)}, "end": {end.Format(time.RFC3339Nano)},
	}.Encode()
	if err := GetJSON(ctx, c, u, &r); err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(r.Data.Values))
	for _, v := range r.Data.Values {
		counts[v.Value] = v.Count
	}
	return counts, nil
}
