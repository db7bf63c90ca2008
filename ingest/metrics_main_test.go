package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them (gRPC
// servers, HTTP test servers, the OTLP delta-to-cumulative sweeper, TSDB).
// It is the only TestMain of package ingest; add package-wide setup here.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
