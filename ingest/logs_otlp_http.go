package ingest

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// ServeHTTP serves OTLP/HTTP logs: POST with a protobuf or JSON ExportLogsServiceRequest; the
// answer (an ExportLogsServiceResponse, or a google.rpc.Status on failure) is in the same
// encoding. Behind OTLPServer.HandleHTTP the body arrives decompressed and bounded; mounted
// elsewhere this handler undoes gzip/zstd and bounds the body itself.
func (l *OTLPLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := l.serveHTTP(w, r)
	l.httpSelf.request(strconv.Itoa(code))
	if reason != "" {
		l.httpSelf.rejected(reason)
	}
}

func (l *OTLPLogs) serveHTTP(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	req := plogotlp.NewExportRequest()
	return serveOTLPExport(w, r, otlpExport{
		signal: "logs",
		readBody: func(w http.ResponseWriter, r *http.Request) ([]byte, error) {
			return readLogsBody(w, r, l.opts.MaxRequestBytes)
		},
		request: req,
		consume: func(ctx context.Context) otlpOutcome { return l.consume(ctx, req.Logs(), l.httpSelf) },
		respond: func(o otlpOutcome) otlpResponse { return logsExportResponse(o) },
		log:     l.log,
	})
}
