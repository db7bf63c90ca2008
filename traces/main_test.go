package traces

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/vigilhq/vigil/internal/crashtest"
)

func TestMain(m *testing.M) {
	// The kill -9 durability test re-executes this binary as the writer that gets killed.
	crashtest.Main(crashWrite)
	goleak.VerifyTestMain(m)
}
