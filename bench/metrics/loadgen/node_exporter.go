package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/prompb"
)

// kind is how a series' value moves from one scrape to the next.
type kind uint8

const (
	kindConst    kind = iota // never changes (sizes, limits, info metrics)
	kindCounter              // grows by about rate per scrape, rounded to quantum
	kindGauge                // random walk between lo and hi, rounded to quantum
	kindUnixTime             // the scrape time in seconds (node_time_seconds)
)

// series is one simulated time series. Its labels are shared strings (a host name, a metric
// name and a label value are each allocated once), so a million series stay affordable.
type series struct {
	labels  []prompb.Label // sorted by name, __name__ first
	kind    kind
	counter bool // a monotonic sum in OTLP terms
	v       float64
	rate    float64 // counter: mean increase per scrape; gauge: step size
	quantum float64 // values are multiples of this (0: any float)
	lo, hi  float64
}

// next advances s by one scrape and returns the new value. Only the shard owning s calls it.
func (s *series) next(r *rand.Rand, tsMillis int64) float64 {
	switch s.kind {
	case kindCounter:
		s.v += s.rate * (0.2 + 1.6*r.Float64())
	case kindGauge:
		s.v += s.rate * (2*r.Float64() - 1)
		s.v = min(max(s.v, s.lo), s.hi)
	case kindUnixTime:
		return float64(tsMillis) / 1000
	}
	if s.quantum > 0 {
		return math.Round(s.v/s.quantum) * s.quantum
	}
	return s.v
}

// metricDef is one metric of a host: a name, the label sets it is exported with, and how its
// values move.
type metricDef struct {
	name    string
	labels  [][]string // each element: name, value, name, value...; nil: one series without labels
	kind    kind
	counter bool
	v, rate float64
	quantum float64
	lo, hi  float64
}

// nodeExporterMetrics is what one node_exporter (plus the scrape's own series) exposes on a
// typical 8-CPU Linux host: about 580 series, the mix of counters, gauges and constants that a
// real one has.
func nodeExporterMetrics() []metricDef {
	var defs []metricDef
	counter := func(name string, rate, quantum float64, labels ...[]string) {
		defs = append(defs, metricDef{name: name, labels: labels, kind: kindCounter, counter: true,
			v: rate * 1e5, rate: rate, quantum: quantum})
	}
	gauge := func(name string, v, step, lo, hi, quantum float64, labels ...[]string) {
		defs = append(defs, metricDef{name: name, labels: labels, kind: kindGauge,
			v: v, rate: step, lo: lo, hi: hi, quantum: quantum})
	}
	constant := func(name string, v float64, labels ...[]string) {
		defs = append(defs, metricDef{name: name, labels: labels, kind: kindConst, v: v})
	}
	cross := func(a, b []string) [][]string { // label sets a × b, each a flat name/value list
		var out [][]string
		for i := 1; i < len(a); i++ {
			for j := 1; j < len(b); j++ {
				out = append(out, []string{a[0], a[i], b[0], b[j]})
			}
		}
		return out
	}
	each := func(l []string) [][]string {
		var out [][]string
		for _, v := range l[1:] {
			out = append(out, []string{l[0], v})
		}
		return out
	}
	cpus := []string{"cpu", "0", "1", "2", "3", "4", "5", "6", "7"}
	modes := []string{"mode", "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
	cpuModeRate := map[string]float64{"idle": 11, "iowait": 0.1, "irq": 0.01, "nice": 0.001, "softirq": 0.05, "steal": 0, "system": 1, "user": 3}
	for _, ls := range cross(cpus, modes) {
		defs = append(defs, metricDef{name: "node_cpu_seconds_total", labels: [][]string{ls}, kind: kindCounter,
			counter: true, v: 1e4 * cpuModeRate[ls[3]], rate: cpuModeRate[ls[3]], quantum: 0.01})
	}
	counter("node_cpu_guest_seconds_total", 0, 0.01, cross(cpus, []string{"mode", "nice", "user"})...)
	for _, n := range []string{"node_schedstat_running_seconds_total", "node_schedstat_waiting_seconds_total"} {
		counter(n, 3, 0, each(cpus)...)
	}
	counter("node_schedstat_timeslices_total", 4000, 1, each(cpus)...)
	counter("node_softnet_processed_total", 900, 1, each(cpus)...)
	counter("node_softnet_dropped_total", 0, 1, each(cpus)...)
	counter("node_softnet_times_squeezed_total", 0.2, 1, each(cpus)...)

	const gib = 1 << 30
	constant("node_memory_MemTotal_bytes", 32*gib)
	constant("node_memory_SwapTotal_bytes", 2*gib)
	constant("node_memory_VmallocTotal_bytes", 32*1024*gib)
	constant("node_memory_Hugepagesize_bytes", 2<<20)
	for _, n := range []string{"MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive",
		"Active_anon", "Inactive_anon", "Active_file", "Inactive_file", "Unevictable", "Mlocked", "SwapFree",
		"Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim",
		"KernelStack", "PageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS",
		"VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
		"ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G"} {
		gauge("node_memory_"+n+"_bytes", 4*gib, 8<<20, 0, 16*gib, 4096)
	}
	for _, n := range []string{"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"} {
		constant("node_memory_"+n, 0)
	}

	devices := []string{"device", "eth0", "eth1", "lo", "docker0"}
	for _, dir := range []string{"receive", "transmit"} {
		counter("node_network_"+dir+"_bytes_total", 2e6, 1, each(devices)...)
		counter("node_network_"+dir+"_packets_total", 3e3, 1, each(devices)...)
		for _, n := range []string{"errs", "drop", "fifo", "compressed"} {
			counter("node_network_"+dir+"_"+n+"_total", 0.01, 1, each(devices)...)
		}
	}
	counter("node_network_receive_frame_total", 0, 1, each(devices)...)
	counter("node_network_receive_multicast_total", 1, 1, each(devices)...)
	counter("node_network_transmit_colls_total", 0, 1, each(devices)...)
	counter("node_network_transmit_carrier_total", 0, 1, each(devices)...)
	for _, n := range []string{"node_network_up", "node_network_carrier", "node_network_mtu_bytes", "node_network_speed_bytes",
		"node_network_transmit_queue_length"} {
		constant(n, 1, each(devices)...)
	}

	var fsLabels [][]string
	for _, m := range [][3]string{{"/dev/sda1", "ext4", "/"}, {"/dev/sda2", "ext4", "/boot"}, {"/dev/sdb1", "xfs", "/var"},
		{"/dev/mapper/vg-home", "ext4", "/home"}, {"tmpfs", "tmpfs", "/run"}, {"tmpfs", "tmpfs", "/dev/shm"}} {
		fsLabels = append(fsLabels, []string{"device", m[0], "fstype", m[1], "mountpoint", m[2]})
	}
	gauge("node_filesystem_avail_bytes", 100*gib, 1<<20, 10*gib, 200*gib, 4096, fsLabels...)
	gauge("node_filesystem_free_bytes", 110*gib, 1<<20, 10*gib, 200*gib, 4096, fsLabels...)
	constant("node_filesystem_size_bytes", 250*gib, fsLabels...)
	constant("node_filesystem_files", 16e6, fsLabels...)
	gauge("node_filesystem_files_free", 15e6, 50, 1e6, 16e6, 1, fsLabels...)
	constant("node_filesystem_readonly", 0, fsLabels...)
	constant("node_filesystem_device_error", 0, fsLabels...)

	disks := []string{"device", "sda", "sdb", "nvme0n1", "dm-0"}
	for _, d := range []struct {
		name          string
		rate, quantum float64
	}{{"reads_completed_total", 50, 1}, {"reads_merged_total", 5, 1}, {"read_bytes_total", 4e6, 512},
		{"read_time_seconds_total", 0.05, 0.001}, {"writes_completed_total", 200, 1}, {"writes_merged_total", 40, 1},
		{"written_bytes_total", 8e6, 512}, {"write_time_seconds_total", 0.3, 0.001}, {"io_time_seconds_total", 0.5, 0.001},
		{"io_time_weighted_seconds_total", 0.6, 0.001}, {"discards_completed_total", 0.1, 1}, {"discards_merged_total", 0, 1},
		{"discarded_sectors_total", 10, 1}, {"discard_time_seconds_total", 0.001, 0.001}, {"flush_requests_total", 2, 1},
		{"flush_requests_time_seconds_total", 0.01, 0.001}} {
		counter("node_disk_"+d.name, d.rate, d.quantum, each(disks)...)
	}
	gauge("node_disk_io_now", 1, 1, 0, 20, 1, each(disks)...)

	for _, n := range []string{"pgfault", "pgmajfault", "pgpgin", "pgpgout", "pswpin", "pswpout", "oom_kill"} {
		counter("node_vmstat_"+n, 500, 1)
	}
	for _, n := range []string{"Tcp_ActiveOpens", "Tcp_PassiveOpens", "Tcp_RetransSegs", "Tcp_InSegs", "Tcp_OutSegs",
		"Tcp_InErrs", "Tcp_OutRsts", "Tcp_AttemptFails", "Tcp_EstabResets", "Udp_InDatagrams", "Udp_OutDatagrams",
		"Udp_InErrors", "Udp_NoPorts", "Udp_RcvbufErrors", "Udp_SndbufErrors", "Udp6_InDatagrams", "Udp6_OutDatagrams",
		"Udp6_InErrors", "Udp6_NoPorts", "UdpLite_InErrors", "TcpExt_ListenDrops", "TcpExt_ListenOverflows",
		"TcpExt_SyncookiesFailed", "TcpExt_SyncookiesRecv", "TcpExt_SyncookiesSent", "TcpExt_TCPSynRetrans",
		"TcpExt_TCPTimeouts", "TcpExt_TCPOFOQueue", "Icmp_InErrors", "Icmp_InMsgs", "Icmp_OutMsgs", "Icmp6_InErrors",
		"Icmp6_InMsgs", "Icmp6_OutMsgs", "IpExt_InOctets", "IpExt_OutOctets", "Ip6_InOctets", "Ip6_OutOctets"} {
		counter("node_netstat_"+n, 40, 1)
	}
	gauge("node_netstat_Tcp_CurrEstab", 150, 5, 10, 2000, 1)
	constant("node_netstat_Ip_Forwarding", 1)
	for _, n := range []string{"sockets_used", "TCP_inuse", "TCP_orphan", "TCP_tw", "TCP_alloc", "TCP_mem", "TCP_mem_bytes",
		"UDP_inuse", "UDP_mem", "UDP_mem_bytes", "UDPLITE_inuse", "RAW_inuse", "FRAG_inuse", "FRAG_memory", "TCP6_inuse",
		"UDP6_inuse", "RAW6_inuse"} {
		gauge("node_sockstat_"+n, 200, 5, 0, 5000, 1)
	}

	gauge("node_load1", 1.2, 0.3, 0, 16, 0.01)
	gauge("node_load5", 1.1, 0.1, 0, 16, 0.01)
	gauge("node_load15", 1.0, 0.05, 0, 16, 0.01)
	constant("node_boot_time_seconds", 1.7e9)
	defs = append(defs, metricDef{name: "node_time_seconds", kind: kindUnixTime})
	counter("node_context_switches_total", 2e5, 1)
	counter("node_intr_total", 1e5, 1)
	counter("node_forks_total", 100, 1)
	gauge("node_procs_running", 3, 2, 1, 40, 1)
	gauge("node_procs_blocked", 0, 1, 0, 5, 1)
	gauge("node_entropy_available_bits", 256, 0, 256, 256, 1)
	gauge("node_filefd_allocated", 5000, 20, 1000, 1e5, 1)
	constant("node_filefd_maximum", 9.2e18)
	gauge("node_nf_conntrack_entries", 800, 20, 0, 262144, 1)
	constant("node_nf_conntrack_entries_limit", 262144)
	gauge("node_timex_offset_seconds", 0, 1e-5, -1e-3, 1e-3, 1e-6)
	constant("node_timex_sync_status", 1)
	gauge("node_timex_estimated_error_seconds", 1e-4, 1e-5, 0, 1e-2, 1e-6)
	gauge("node_processes_threads", 600, 5, 100, 5000, 1)
	gauge("node_processes_pids", 300, 3, 50, 4000, 1)
	sensors := []string{"sensor", "temp1", "temp2", "temp3", "temp4", "temp5"}
	gauge("node_hwmon_temp_celsius", 50, 0.5, 30, 95, 1, cross([]string{"chip", "platform_coretemp_0"}, sensors)...)
	constant("node_hwmon_temp_crit_celsius", 100, cross([]string{"chip", "platform_coretemp_0"}, sensors)...)

	collectors := []string{"collector", "arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats",
		"dmi", "edac", "entropy", "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband", "ipvs", "loadavg",
		"mdadm", "meminfo", "netclass", "netdev", "netstat", "nfs", "nfsd", "nvme", "os", "powersupplyclass",
		"pressure", "rapl", "schedstat", "selinux", "sockstat", "softnet", "stat", "tapestats", "textfile",
		"thermal_zone", "time", "timex", "udp_queues", "uname", "vmstat", "xfs", "zfs"}
	gauge("node_scrape_collector_duration_seconds", 0.002, 0.0005, 1e-5, 0.1, 1e-6, each(collectors)...)
	constant("node_scrape_collector_success", 1, each(collectors)...)
	constant("node_uname_info", 1, []string{"domainname", "(none)", "machine", "x86_64", "release", "6.1.0-18-amd64",
		"sysname", "Linux", "version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"})
	constant("node_os_info", 1, []string{"id", "debian", "name", "Debian GNU/Linux", "pretty_name", "Debian GNU/Linux 12 (bookworm)",
		"version", "12 (bookworm)", "version_codename", "bookworm", "version_id", "12"})
	constant("node_exporter_build_info", 1, []string{"branch", "HEAD", "goarch", "amd64", "goos", "linux",
		"goversion", "go1.21.6", "revision", "a0a2b4e", "tags", "netgo osusergo static_build", "version", "1.7.0"})

	gauge("go_goroutines", 9, 1, 6, 20, 1)
	gauge("go_threads", 8, 0, 8, 8, 1)
	for _, n := range []string{"alloc_bytes", "heap_alloc_bytes", "heap_idle_bytes", "heap_inuse_bytes", "heap_released_bytes",
		"heap_sys_bytes", "mcache_inuse_bytes", "mcache_sys_bytes", "mspan_inuse_bytes", "mspan_sys_bytes",
		"next_gc_bytes", "other_sys_bytes", "stack_inuse_bytes", "stack_sys_bytes", "sys_bytes", "buck_hash_sys_bytes",
		"gc_sys_bytes", "heap_objects"} {
		gauge("go_memstats_"+n, 4e6, 2e5, 1e6, 2e7, 8)
	}
	for _, n := range []string{"alloc_bytes_total", "frees_total", "mallocs_total", "lookups_total"} {
		counter("go_memstats_"+n, 3e5, 1)
	}
	constant("go_memstats_last_gc_time_seconds", 1.7e9)
	gauge("go_gc_duration_seconds", 5e-5, 1e-5, 1e-5, 1e-3, 1e-7, each([]string{"quantile", "0", "0.25", "0.5", "0.75", "1"})...)
	counter("go_gc_duration_seconds_sum", 1e-4, 1e-7)
	counter("go_gc_duration_seconds_count", 1, 1)
	constant("go_info", 1, []string{"version", "go1.21.6"})
	counter("process_cpu_seconds_total", 0.15, 0.01)
	gauge("process_resident_memory_bytes", 2.2e7, 1e5, 1.5e7, 4e7, 4096)
	gauge("process_virtual_memory_bytes", 1.3e9, 0, 1.3e9, 1.3e9, 4096)
	constant("process_virtual_memory_max_bytes", 1.8e19)
	gauge("process_open_fds", 10, 1, 8, 30, 1)
	constant("process_max_fds", 1048576)
	constant("process_start_time_seconds", 1.7e9)
	counter("promhttp_metric_handler_requests_total", 1, 1, each([]string{"code", "200", "500", "503"})...)
	constant("promhttp_metric_handler_requests_in_flight", 1)

	// What the scraper adds for each target.
	constant("up", 1)
	gauge("scrape_duration_seconds", 0.03, 0.005, 0.01, 0.5, 1e-6)
	for _, n := range []string{"scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		constant(n, 580)
	}
	return defs
}

// buildSeries returns n series: node_exporter hosts named <prefix>-NNNNN:9100 (job="node"),
// about 580 series each, the last host cut short so that the total is exactly n.
func buildSeries(n int, prefix string, seed uint64) []series {
	defs := nodeExporterMetrics()
	perHost := 0
	for _, d := range defs {
		perHost += max(1, len(d.labels))
	}
	hosts := (n + perHost - 1) / perHost
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	intern := map[string]string{}
	in := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	out := make([]series, 0, n)
	for h := 0; h < hosts && len(out) < n; h++ {
		instance := fmt.Sprintf("%s-%05d:9100", prefix, h)
		for _, d := range defs {
			sets := d.labels
			if sets == nil {
				sets = [][]string{nil}
			}
			for _, set := range sets {
				if len(out) == n {
					break
				}
				ls := []prompb.Label{{Name: "__name__", Value: d.name}, {Name: "instance", Value: instance}, {Name: "job", Value: "node"}}
				for i := 0; i+1 < len(set); i += 2 {
					ls = append(ls, prompb.Label{Name: in(set[i]), Value: in(set[i+1])})
				}
				sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
				// Each host starts elsewhere, so hosts do not all carry the same values.
				jitter := 0.5 + r.Float64()
				out = append(out, series{labels: ls, kind: d.kind, counter: d.counter,
					v: d.v * jitter, rate: d.rate * jitter, quantum: d.quantum, lo: d.lo, hi: d.hi})
			}
		}
	}
	return out
}

// seriesPerHost is the number of series of one simulated host.
func seriesPerHost() int {
	n := 0
	for _, d := range nodeExporterMetrics() {
		n += max(1, len(d.labels))
	}
	return n
}

// otlpName is the OTLP metric name that Prometheus's OTLP translator turns back into name:
// a monotonic sum gets its _total suffix added by the translator.
func otlpName(name string, counter bool) string {
	if counter {
		return strings.TrimSuffix(name, "_total")
	}
	return name
}
