// Command panicnoise dies the way etcd does after a failpoint panic: its handler logs the panic,
// then writes many more lines to stderr (NOISE_LINES, default 70) before the process exits, so the
// runtime's "failpoint panic" line is far from the end of stderr.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func step() {
	// gofail: var boom struct{}
}

func main() {
	lines := 70
	if text := os.Getenv("NOISE_LINES"); text != "" {
		lines, _ = strconv.Atoi(text)
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "{\"level\":\"panic\",\"msg\":\"recovered\",\"error\":%q}\n", fmt.Sprint(r))
			for i := 0; i < lines; i++ {
				fmt.Fprintf(os.Stderr, "goroutine %d [running]: while logging the panic\n", i)
			}
			os.Exit(2)
		}
	}()
	fmt.Println("started")
	for {
		step()
		time.Sleep(20 * time.Millisecond)
	}
}
