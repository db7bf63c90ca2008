package traces

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// storeFormat is the value of the format key. Format 2 (chunks of a trace, a shared
// resource table and one summary per chunk and service) replaced format 1 (one record and
// about 20 index keys per span); there is no conversion: there were no users yet.
const storeFormat = "vigil-traces-2"

var formatKey = []byte{prefixFormat, 'f', 'o', 'r', 'm', 'a', 't'}

// ErrFormat means the directory holds a trace store this version cannot read.
var ErrFormat = errors.New("trace store format not supported")

// checkFormat stamps an empty store with storeFormat and refuses one written in another
// format, rather than misreading it.
func checkFormat(pdb *pebble.DB) error {
	v, closer, err := pdb.Get(formatKey)
	switch {
	case err == nil:
		got := string(v)
		closer.Close()
		if got != storeFormat {
			return fmt.Errorf("%w: the directory holds format %q, this version reads %q; move it away or delete it", ErrFormat, got, storeFormat)
		}
		return nil
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("read store format: %w", err)
	}
	it, err := pdb.NewIter(nil)
	if err != nil {
		return fmt.Errorf("read store format: %w", err)
	}
	empty := !it.First()
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("read store format: %w", err)
	}
	if !empty {
		return fmt.Errorf("%w: the directory holds spans of an older Vigil (format 1), this version reads %q; move it away or delete it", ErrFormat, storeFormat)
	}
	if err := pdb.Set(formatKey, []byte(storeFormat), pebble.Sync); err != nil {
		return fmt.Errorf("write store format: %w", err)
	}
	return nil
}

// checkComparer refuses, before pebble opens it, a directory whose pebble OPTIONS file
// names another key comparer than keyComparer: format 1 used pebble's default. (pebble
// refuses it too, but a failed pebble.Open leaves a goroutine behind.)
func checkComparer(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "OPTIONS-*"))
	if err != nil || len(names) == 0 {
		return nil // a new store, or pebble will say what is wrong
	}
	slices.Sort(names) // zero-padded file numbers: the newest last
	b, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		return fmt.Errorf("read store options: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "comparer=")
		if ok && name != keyComparer.Name {
			return fmt.Errorf("%w: the directory holds spans of an older Vigil (format 1, keys ordered by %s), this version reads %q; move it away or delete it", ErrFormat, name, storeFormat)
		}
	}
	return nil
}
