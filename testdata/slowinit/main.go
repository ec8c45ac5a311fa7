// Command slowinit reproduces the start-up race of big gofail binaries such as etcd: its gofail
// endpoint answers about 1.5 s (SLOWINIT_MS) before its failpoint lateFailpoint is registered.
//
// With SLOWINIT_ARM set, it also stretches a gap the runtime itself has: the runtime makes a
// failpoint visible, then applies its GOFAIL_FAILPOINTS terms, so a request in between reads an
// armed-at-start failpoint as off. Here lateFailpoint gets the terms in SLOWINIT_ARM only
// SLOWINIT_ARM_AFTER_MS after it registered.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"example.com/slowinit/fp"
	"go.etcd.io/gofail/runtime"
)

func main() {
	if terms := os.Getenv("SLOWINIT_ARM"); terms != "" {
		ms, _ := strconv.Atoi(os.Getenv("SLOWINIT_ARM_AFTER_MS"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		if err := runtime.Enable("lateFailpoint", terms); err != nil {
			fmt.Println("arm:", err)
			os.Exit(1)
		}
	}
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
