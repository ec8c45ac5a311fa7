// termcheck asks the real gofail runtime whether it accepts each line of stdin as failpoint
// terms, and prints one verdict per line ("VERDICT\taccept" or "VERDICT\treject"). The runtime
// prints its own parse messages on stdout too, hence the prefix.
package main

import (
	"bufio"
	"fmt"
	"os"

	"go.etcd.io/gofail/runtime"
)

var probe = runtime.NewFailpoint("probe")

func verdict(terms string) (accepted bool) {
	// a few malformed terms make the runtime's parser slice past the end and panic
	defer func() {
		if recover() != nil {
			accepted = false
		}
	}()
	return runtime.Enable("probe", terms) == nil
}

func main() {
	_ = probe
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		if verdict(scanner.Text()) {
			fmt.Println("VERDICT\taccept")
		} else {
			fmt.Println("VERDICT\treject")
		}
	}
}
