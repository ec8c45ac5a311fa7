// gatewayclient sends the traffic gofail-py's traffic sends (put, get, list, delete, cas, multi-key
// txn, in the same mix over the same keys, a unique value per write) to etcd's HTTP/JSON gateway
// from N goroutines for a duration, and prints how many operations were answered: the Go side of
// benchmarks/traffic_vs_go.py. Nothing is recorded; one http.Client shared (a connection per
// goroutine kept alive), each goroutine pinned to member i mod n as gofail-py's clients are.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Ops      int64   `json:"ops"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	PerOp    float64 `json:"ops_per_second"`
	Clients  int     `json:"clients"`
	Endpoint string  `json:"endpoints"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

type client struct {
	http   *http.Client
	base   string
	rng    *rand.Rand
	keys   []string
	seen   map[string]int64
	index  int
	count  int
	weight []int
	names  []string
}

func (c *client) value() string { c.count++; return fmt.Sprintf("c%d.%d", c.index, c.count) }

func (c *client) post(path string, body map[string]any) (map[string]any, error) {
	data, _ := json.Marshal(body)
	resp, err := c.http.Post(c.base+path, "application/json", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func revision(answer map[string]any) int64 {
	header, _ := answer["header"].(map[string]any)
	var r int64
	fmt.Sscan(fmt.Sprint(header["revision"]), &r)
	return r
}

func (c *client) saw(kvs any, asked string) {
	c.seen[asked] = 0
	list, _ := kvs.([]any)
	for _, item := range list {
		kv, _ := item.(map[string]any)
		key, _ := base64.StdEncoding.DecodeString(fmt.Sprint(kv["key"]))
		var mod int64
		fmt.Sscan(fmt.Sprint(kv["mod_revision"]), &mod)
		c.seen[string(key)] = mod
	}
}

func rangeEnd(prefix string) string {
	raw := []byte(prefix)
	raw[len(raw)-1]++
	return base64.StdEncoding.EncodeToString(raw)
}

// one operation, as gofail_py/traffic/workload.py's KvWorkload draws it and etcd.py sends it
func (c *client) one() error {
	pick := c.rng.Intn(c.weight[len(c.weight)-1])
	kind := 0
	for pick >= c.weight[kind] {
		kind++
	}
	key := c.keys[c.rng.Intn(len(c.keys))]
	switch c.names[kind] {
	case "put":
		_, err := c.post("/v3/kv/put", map[string]any{"key": b64(key), "value": b64(c.value())})
		return err
	case "get":
		answer, err := c.post("/v3/kv/range", map[string]any{"key": b64(key)})
		if err == nil {
			c.saw(answer["kvs"], key)
		}
		return err
	case "list":
		_, err := c.post("/v3/kv/range", map[string]any{"key": b64("key"), "range_end": rangeEnd("key")})
		return err
	case "delete":
		_, err := c.post("/v3/kv/deleterange", map[string]any{"key": b64(key)})
		return err
	case "cas":
		answer, err := c.post("/v3/kv/txn", map[string]any{
			"compare": []any{map[string]any{"key": b64(key), "result": "EQUAL", "target": "MOD",
				"mod_revision": fmt.Sprint(c.seen[key])}},
			"success": []any{map[string]any{"request_put": map[string]any{"key": b64(key), "value": b64(c.value())}}},
			"failure": []any{map[string]any{"request_range": map[string]any{"key": b64(key)}}},
		})
		if err == nil {
			if ok, _ := answer["succeeded"].(bool); ok {
				c.seen[key] = revision(answer)
			}
		}
		return err
	}
	ops := []any{}
	for _, i := range c.rng.Perm(len(c.keys))[:min(4, len(c.keys))] {
		roll := c.rng.Float64()
		name := c.keys[i]
		switch {
		case roll < 0.1:
			ops = append(ops, map[string]any{"request_delete_range": map[string]any{"key": b64(name)}})
		case roll < 0.5:
			ops = append(ops, map[string]any{"request_range": map[string]any{"key": b64(name)}})
		default:
			ops = append(ops, map[string]any{"request_put": map[string]any{"key": b64(name), "value": b64(c.value())}})
		}
	}
	_, err := c.post("/v3/kv/txn", map[string]any{"compare": []any{}, "success": ops, "failure": []any{}})
	return err
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "members' client addresses, comma-separated")
	clients := flag.Int("clients", 4, "goroutines")
	duration := flag.Duration("duration", 10*time.Second, "how long")
	keys := flag.Int("keys", 10, "keys key0..keyN-1")
	mix := flag.String("mix", "put=40,get=25,list=10,delete=5,cas=10,txn=10", "weights")
	timeout := flag.Duration("timeout", time.Second, "per operation")
	flag.Parse()

	var names []string
	var weights []int
	total := 0
	for _, part := range strings.Split(*mix, ",") {
		name, weight, _ := strings.Cut(part, "=")
		var w int
		fmt.Sscan(weight, &w)
		total += w
		names = append(names, name)
		weights = append(weights, total)
	}
	keyNames := make([]string, *keys)
	for i := range keyNames {
		keyNames[i] = fmt.Sprintf("key%d", i)
	}
	members := strings.Split(*endpoints, ",")
	transport := &http.Transport{MaxIdleConnsPerHost: *clients, MaxIdleConns: *clients * 2}
	httpClient := &http.Client{Transport: transport, Timeout: *timeout}
	var ops, errors atomic.Int64
	var wait sync.WaitGroup
	began := time.Now()
	end := began.Add(*duration)
	for i := 0; i < *clients; i++ {
		wait.Add(1)
		go func(index int) {
			defer wait.Done()
			c := &client{http: httpClient, base: "http://" + members[index%len(members)], rng: rand.New(rand.NewSource(int64(index))),
				keys: keyNames, seen: map[string]int64{}, index: index, weight: weights, names: names}
			for time.Now().Before(end) {
				if err := c.one(); err != nil {
					errors.Add(1)
				} else {
					ops.Add(1)
				}
			}
		}(i)
	}
	wait.Wait()
	seconds := time.Since(began).Seconds()
	out := result{Ops: ops.Load(), Errors: errors.Load(), Seconds: seconds, PerOp: float64(ops.Load()) / seconds,
		Clients: *clients, Endpoint: *endpoints}
	json.NewEncoder(os.Stdout).Encode(out)
}
