package logs

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/vigilhq/vigil/internal/crashtest"
)

func TestMain(m *testing.M) {
	// The kill -9 durability test re-executes this binary as the writer that gets killed.
	crashtest.Main(crashWrite)
	// bleve starts its analysis workers once, at package init.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}
