package tsdb

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	f := func(name string, mutate func(*Options), wantErr string) {
		t.Helper()
		o := DefaultOptions()
		mutate(&o)
		err := o.Validate()
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", name, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want one containing %q", name, err, wantErr)
		}
	}
	f("defaults", func(*Options) {}, "")
	f("no retention", func(o *Options) { o.RetentionTime = 0 }, "")
	f("negative retention", func(o *Options) { o.RetentionTime = -time.Hour }, "retention time")
	f("negative size", func(o *Options) { o.RetentionSize = -1 }, "retention size")
	f("negative ooo", func(o *Options) { o.OutOfOrderWindow = -time.Second }, "out-of-order window")
	f("zero min block", func(o *Options) { o.MinBlockDuration = 0 }, "min block duration")
	f("max below min", func(o *Options) { o.MaxBlockDuration = time.Hour }, "max block duration")
	f("exemplars without room", func(o *Options) { o.MaxExemplars = 0 }, "max exemplars")
	f("exemplars off", func(o *Options) { o.EnableExemplars, o.MaxExemplars = false, 0 }, "")
	f("zero timeout", func(o *Options) { o.QueryTimeout = 0 }, "query timeout")
	f("zero samples", func(o *Options) { o.QueryMaxSamples = 0 }, "query max samples")
	f("zero lookback", func(o *Options) { o.LookbackDelta = 0 }, "lookback delta")
	f("zero concurrency", func(o *Options) { o.QueryMaxConcurrency = 0 }, "query max concurrency")
	f("zero subquery step", func(o *Options) { o.SubqueryStep = 0 }, "subquery step")
}

func TestDefaultOptionsMatchPrometheus(t *testing.T) {
	o := DefaultOptions()
	p := o.promOptions()
	cases := []struct {
		name      string
		got, want int64
	}{
		{"retention ms", p.RetentionDuration, (15 * 24 * time.Hour).Milliseconds()},
		{"min block ms", p.MinBlockDuration, (2 * time.Hour).Milliseconds()},
		{"max block ms (10% of retention)", p.MaxBlockDuration, (36 * time.Hour).Milliseconds()},
		{"ooo window ms", p.OutOfOrderTimeWindow, (10 * time.Minute).Milliseconds()},
		{"max exemplars", p.MaxExemplars, 100_000},
		{"max bytes", p.MaxBytes, 0},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if !p.EnableExemplarStorage {
		t.Error("exemplar storage disabled")
	}
	if got := retentionString(Options{RetentionTime: 15 * 24 * time.Hour, RetentionSize: 1 << 30}); got != "15d or 1GiB" {
		t.Errorf("retention string = %q", got)
	}
}

func TestOpenRejectsInvalidOptions(t *testing.T) {
	o := DefaultOptions()
	o.QueryTimeout = 0
	if db, err := Open(t.TempDir(), o, nil, nil); err == nil {
		db.Close()
		t.Fatal("Open accepted a zero query timeout")
	}
}
