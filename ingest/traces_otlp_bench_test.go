package ingest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigilhq/vigil/traces"
)

// benchTraceRequest is an encoded 512-span OTLP request shaped like bench/traces' load:
// traces of 5-30 spans over 3-6 services, one resource of 10 attributes per service, 10
// attributes per span.
func benchTraceRequest(r *rand.Rand, at time.Time) []byte {
	td := ptrace.NewTraces()
	services := []string{"frontend", "checkout", "payment", "inventory", "shipping", "auth"}
	scopes := map[string]ptrace.SpanSlice{}
	for _, svc := range services {
		rs := td.ResourceSpans().AppendEmpty()
		a := rs.Resource().Attributes()
		a.PutStr("service.name", svc)
		a.PutStr("service.version", "1.2.3")
		a.PutStr("service.namespace", "shop")
		a.PutStr("deployment.environment.name", "production")
		a.PutStr("host.name", fmt.Sprintf("%s-%x", svc, r.Uint32()))
		a.PutStr("k8s.namespace.name", "shop")
		a.PutStr("k8s.pod.name", fmt.Sprintf("%s-%x", svc, r.Uint32()))
		a.PutStr("telemetry.sdk.language", "go")
		a.PutStr("telemetry.sdk.name", "opentelemetry")
		a.PutStr("telemetry.sdk.version", "1.38.0")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("io.opentelemetry.contrib.http")
		ss.Scope().SetVersion("0.52.0")
		scopes[svc] = ss.Spans()
	}
	for n := 0; n < 512; {
		size := min(5+r.IntN(26), 512-n)
		var tid pcommon.TraceID
		binary.BigEndian.PutUint64(tid[:8], r.Uint64())
		binary.BigEndian.PutUint64(tid[8:], r.Uint64())
		var ids []pcommon.SpanID
		for j := range size {
			svc := services[min(j*4/size+r.IntN(2), len(services)-1)]
			if j == 0 {
				svc = "frontend"
			}
			s := scopes[svc].AppendEmpty()
			var id pcommon.SpanID
			binary.BigEndian.PutUint64(id[:], r.Uint64()|1)
			s.SetTraceID(tid)
			s.SetSpanID(id)
			if j > 0 {
				s.SetParentSpanID(ids[r.IntN(j)])
			}
			ids = append(ids, id)
			s.SetName("GET /api/things")
			s.SetKind(ptrace.SpanKindServer)
			start := at.Add(time.Duration(r.IntN(int(time.Second))))
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(r.IntN(int(100 * time.Millisecond))))))
			a := s.Attributes()
			a.PutStr("http.request.method", "GET")
			a.PutStr("http.route", "/api/things")
			a.PutInt("http.response.status_code", 200)
			a.PutStr("url.scheme", "http")
			a.PutStr("server.address", svc+".shop.svc.cluster.local")
			a.PutInt("server.port", 8080)
			a.PutStr("network.peer.address", fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)))
			a.PutStr("user.id", fmt.Sprintf("u-%06d", r.IntN(1000000)))
			a.PutStr("code.function", "handleThings")
			a.PutStr("app.request_id", fmt.Sprintf("%016x", r.Uint64()))
		}
		n += size
	}
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkTracesIngest is the receiver's whole path for one 512-span protobuf request:
// decode, check, convert, store (fsync included) and span metrics. It reports the CPU time
// of the process per span, which does not depend on how busy the machine is.
//
//	go test -run '^$' -bench TracesIngest -benchtime 400x ./ingest/
func BenchmarkTracesIngest(b *testing.B) {
	dir := b.TempDir()
	gen, err := traces.NewGenerator(nil, traces.DefaultGeneratorOptions(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	opts := traces.DefaultOptions()
	opts.Observer = gen
	db, err := traces.Open(dir, opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	reqs := make([][]byte, min(b.N, 1000))
	at := time.Now().Add(-time.Hour)
	for i := range reqs {
		reqs[i] = benchTraceRequest(r, at.Add(time.Duration(i)*time.Second))
	}
	ctx := context.Background()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := newTracesRequest(recv.newCheck()) // as the gRPC and HTTP protobuf paths do
		if err := req.UnmarshalProto(reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		if out := recv.consumeRequest(ctx, req, recv.grpcSelf); out.err != nil {
			b.Fatal(out.err)
		}
	}
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := (ru1.Utime.Nano() + ru1.Stime.Nano()) - (ru0.Utime.Nano() + ru0.Stime.Nano())
	b.ReportMetric(float64(cpu)/float64(b.N*512), "cpu-ns/span")
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
}
