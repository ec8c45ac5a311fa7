// Command porcupine checks gofail-py history files (docs/check.md) with Porcupine v1.3.1, for the
// benchmark that runs it side by side with `gofail-py check` on the same files
// (benchmarks/check_vs_porcupine.py). It prints one JSON object: the verdict and the seconds spent.
//
//	porcupine [-model kv|register] [-timeout 60s] [-max-mem 8GiB] [-verbose] HISTORY
//
// The models (kv.go, register.go) have the semantics of gofail-py's: the kv model is etcd's
// key-value store with its revision counter. An operation without a return (indeterminate) returns
// at math.MaxInt64 and its step allows both outcomes: it took effect, or it never did.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/metrics"
	"time"

	"github.com/anishathalye/porcupine"
)

// record is one line of a history file: the optional header, or one operation.
type record struct {
	Version *int            `json:"gofail_py_history"`
	Model   string          `json:"model"`
	ID      *int64          `json:"id"`
	Client  int             `json:"client"`
	Op      string          `json:"op"`
	Input   json.RawMessage `json:"input"`
	Call    int64           `json:"call"`
	Return  *int64          `json:"return"`
	Output  json.RawMessage `json:"output"`
	Error   string          `json:"error"`
	Meta    json.RawMessage `json:"meta"`
}

// a parser turns one operation's name, input and output into the model's values; output is nil
// for an indeterminate operation.
type parser func(op string, input, output json.RawMessage) (interface{}, interface{}, error)

type result struct {
	Verdict     string  `json:"verdict"`
	Seconds     float64 `json:"seconds"`      // the check alone
	LoadSeconds float64 `json:"load_seconds"` // reading and parsing the file
	Operations  int     `json:"operations"`
	Longest     *int    `json:"longest_prefix,omitempty"` // -verbose: the longest partial linearization
	Model       string  `json:"model"`
}

func main() {
	model := flag.String("model", "", "kv or register (default: the file's header, else kv)")
	timeout := flag.Duration("timeout", 0, "give up after this long: verdict unknown (0: no limit)")
	maxMem := flag.Int64("max-mem", 8<<30, "bytes of memory past which the check stops: verdict out of memory")
	verbose := flag.Bool("verbose", false, "CheckOperationsVerbose: also the longest linearizable prefix")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("usage: porcupine [-model kv|register] [-timeout D] [-max-mem BYTES] [-verbose] HISTORY")
	}
	began := time.Now()
	history, name, err := load(flag.Arg(0), *model)
	if err != nil {
		fail(err.Error())
	}
	loaded := time.Now()
	out := result{Operations: len(history), Model: name, LoadSeconds: loaded.Sub(began).Seconds()}
	go watchMemory(*maxMem, out, loaded)
	var m porcupine.Model
	if name == "kv" {
		m = kvModel()
	} else {
		m = registerModel()
	}
	var verdict porcupine.CheckResult
	if *verbose {
		var info porcupine.LinearizationInfo
		verdict, info = porcupine.CheckOperationsVerbose(m, history, *timeout)
		longest := 0
		for _, part := range info.PartialLinearizations() {
			for _, prefix := range part {
				if len(prefix) > longest {
					longest = len(prefix)
				}
			}
		}
		out.Longest = &longest
	} else {
		verdict = porcupine.CheckOperationsTimeout(m, history, *timeout)
	}
	out.Seconds = time.Since(loaded).Seconds()
	out.Verdict = map[porcupine.CheckResult]string{
		porcupine.Ok: "linearizable", porcupine.Illegal: "not linearizable", porcupine.Unknown: "unknown"}[verdict]
	emit(out)
}

func load(path, model string) ([]porcupine.Operation, string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	var history []porcupine.Operation
	for number := 1; scanner.Scan(); number++ {
		var r record
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			return nil, "", fmt.Errorf("%s:%d: %v", path, number, err)
		}
		if r.Version != nil {
			if model == "" {
				model = r.Model
			}
			continue
		}
		if model == "" {
			model = "kv"
		}
		parse := map[string]parser{"kv": parseKv, "register": parseRegister}[model]
		if parse == nil {
			return nil, "", fmt.Errorf("unknown model %q (kv or register)", model)
		}
		if r.ID == nil {
			return nil, "", fmt.Errorf("%s:%d: an operation without an id", path, number)
		}
		ret := int64(math.MaxInt64) // indeterminate: open to the end of the history
		output := r.Output
		if r.Return != nil {
			ret = *r.Return
		} else {
			output = nil
		}
		input, out, err := parse(r.Op, r.Input, output)
		if err != nil {
			return nil, "", fmt.Errorf("%s:%d: %v", path, number, err)
		}
		history = append(history, porcupine.Operation{ClientId: r.Client, Input: input, Call: r.Call, Output: out, Return: ret})
	}
	if err := scanner.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %v", path, err)
	}
	if model == "" {
		model = "kv"
	}
	return history, model, nil
}

// watchMemory ends the process with the verdict "out of memory" once the Go runtime holds more
// than limit bytes (Porcupine's cache of visited states grows without bound on a hard history).
func watchMemory(limit int64, out result, since time.Time) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	for range time.Tick(100 * time.Millisecond) {
		metrics.Read(sample)
		if int64(sample[0].Value.Uint64()) > limit {
			out.Seconds = time.Since(since).Seconds()
			out.Verdict = "out of memory"
			emit(out)
			os.Exit(0)
		}
	}
}

func emit(out result) {
	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "porcupine:", message)
	os.Exit(2)
}
