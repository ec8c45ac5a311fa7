// goclient times enable+disable round trips against a gofail endpoint with Go's net/http
// (keep-alive), for comparison with gofail-py's client. It prints one latency in
// microseconds per line.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func do(client *http.Client, method, url, body string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		panic(fmt.Sprintf("%s %s: %d", method, url, resp.StatusCode))
	}
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:22381", "gofail endpoint")
	name := flag.String("name", "slowWrite", "failpoint")
	n := flag.Int("n", 1000, "round trips")
	flag.Parse()
	client := &http.Client{}
	url := "http://" + *endpoint + "/" + *name
	for i := 0; i < *n; i++ {
		began := time.Now()
		do(client, http.MethodPut, url, "sleep(1)")
		do(client, http.MethodDelete, url, "")
		fmt.Println(time.Since(began).Microseconds())
	}
}
