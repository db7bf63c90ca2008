package alerting

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// update rewrites the golden files of every test in the package that has them.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestMain is the package's only one: every test, the router's included, must leave no
// goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
