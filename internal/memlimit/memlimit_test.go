package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir() + "/"
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(root+p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root+p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolve(t *testing.T) {
	const meminfo = "MemTotal:       10485760 kB\nMemFree:         1000 kB\n" // 10 GiB
	tests := []struct {
		name       string
		configured int64
		env        string
		files      map[string]string
		want       int64
		source     Source
		wantErr    bool
	}{
		{name: "configured wins", configured: 1 << 30, env: "2GiB", files: map[string]string{"proc/meminfo": meminfo}, want: 1 << 30, source: FromConfig},
		{name: "GOMEMLIMIT next", env: "2GiB", files: map[string]string{"proc/meminfo": meminfo}, want: 2 << 30, source: FromEnv},
		{name: "GOMEMLIMIT plain bytes", env: "1048576", want: 1 << 20, source: FromEnv},
		{name: "GOMEMLIMIT off means unset", env: "off", files: map[string]string{"proc/meminfo": meminfo}, want: 7 << 30, source: FromMachine},
		{name: "machine fraction", files: map[string]string{"proc/meminfo": meminfo}, want: 7 << 30, source: FromMachine},
		{name: "cgroup v2 smaller", files: map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "1073741824\n"}, want: 751619276, source: FromMachine},
		{name: "cgroup v2 unlimited", files: map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "max\n"}, want: 7 << 30, source: FromMachine},
		{name: "cgroup v1 no limit", files: map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, want: 7 << 30, source: FromMachine},
		{name: "bad GOMEMLIMIT", env: "lots", wantErr: true},
		{name: "no meminfo", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fakeRoot(t, tt.files)
			got, src, err := Resolve(tt.configured, func(string) string { return tt.env }, root)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %d from %s, want an error", got, src)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || src != tt.source {
				t.Errorf("got %d from %s, want %d from %s", got, src, tt.want, tt.source)
			}
		})
	}
}
