// Command slowinit reproduces the start-up race of big gofail binaries such as etcd: its gofail
// endpoint answers about 1.5 s (SLOWINIT_MS) before its failpoint lateFailpoint is registered.
package main

import (
	"fmt"
	"time"

	"example.com/slowinit/fp"
)

func main() {
	fmt.Println("started")
	last := ""
	for {
		if v := fp.Value(); v != last {
			fmt.Println("value:", v)
			last = v
		}
		time.Sleep(20 * time.Millisecond)
	}
}
