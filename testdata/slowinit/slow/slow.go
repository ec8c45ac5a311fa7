// Package slow stands for a big binary's slow start-up: its init sleeps before the packages that
// depend on it (fp, with the failpoint) are initialised. It imports the gofail runtime itself so
// that the runtime's init, which starts the HTTP endpoint, certainly runs before this sleep.
package slow

import (
	"os"
	"strconv"
	"time"

	_ "go.etcd.io/gofail/runtime"
)

// Ready is read by fp, which makes fp depend on this package (and so initialise after it).
var Ready = true

func init() {
	ms, err := strconv.Atoi(os.Getenv("SLOWINIT_MS"))
	if err != nil {
		ms = 1500
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
}
