package traces

import (
	"context"
	"testing"

	"github.com/vigilhq/vigil/internal/crashtest"
)

func TestDurabilityKill9(t *testing.T) {
	dir := t.TempDir()
	crashtest.KillAfterWrite(t, dir)
	db := openTestDB(t, dir, DefaultOptions())
	for i := byte(1); i <= crashTraces; i++ {
		got, err := db.TraceSpans(context.Background(), tid(i))
		if err != nil || len(got) != 6 {
			t.Fatalf("trace %d after kill -9: %d spans, %v; want 6", i, len(got), err)
		}
	}
	svcs, _ := db.Services(context.Background())
	if len(svcs) != 3 {
		t.Errorf("services after kill -9: %v", svcs)
	}
}

const crashTraces = 20

// crashWrite is the killed writer's side (see crashtest): it never closes the DB.
func crashWrite(dir string) error {
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		return err
	}
	for i := byte(1); i <= crashTraces; i++ {
		if err := db.WriteSpans(context.Background(), fixtureTrace(i, base)); err != nil {
			return err
		}
	}
	return nil
}
