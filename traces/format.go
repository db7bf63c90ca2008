package traces

import (
	"errors"
	"fmt"

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
