package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them (gRPC
// servers, HTTP test servers, the OTLP delta-to-cumulative sweeper, TSDB).
// It is the only TestMain of package ingest; add package-wide setup here.
func TestMain(m *testing.M) {
	// Importing the logs package (for logs.Record) starts bleve's analysis workers once, at
	// package init; they are not a leak of any test.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}
