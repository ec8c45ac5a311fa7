// kvserver is a small key-value HTTP server whose write path carries gofail failpoints. It is
// the example gofail-py's demo and tests run against. Two APIs over one store:
//
//   - `PUT /kv/KEY` stores the body, `GET /kv/KEY` reads it back (plain text);
//   - `POST /api/put|get|delete|txn` with JSON in the shapes of gofail-py's `kv` model
//     (docs/check.md): every answer carries the store's revision, every key its create and mod
//     revision and version, as etcd's do; a get may read a prefix, a txn compares and then puts,
//     gets or deletes (a compare-and-set).
//
// Every acknowledged write is in an fsynced log that a restart replays. Four failpoints are
// seeded bugs (staleRead, forgetWrite, skipSync, applyTwice): armed, the store answers wrongly
// as real stores have, and a linearizability check of the answers catches it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve the key-value API on")
	dataDir := flag.String("data", "kvdata", "directory of the write-ahead log")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatal(err)
	}
	store, err := openStore(filepath.Join(*dataDir, "kv.log"))
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/kv/", func(w http.ResponseWriter, r *http.Request) { serveKV(store, w, r) })
	http.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { serveAPI(store, w, r) })
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	log.Printf("kvserver: %d keys loaded, listening on %s", store.len(), *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}

func serveKV(store *store, w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/kv/")
	if key == "" {
		http.Error(w, "missing key", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodPut:
		value, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := store.put(key, string(value)); err != nil {
			http.Error(w, "write failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		_, kvs := store.read(key, false)
		if len(kvs) == 0 {
			http.Error(w, "no such key", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, kvs[0].Value)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveAPI answers POST /api/put, /api/get, /api/delete and /api/txn. A bad request is 400, a
// write that failed 500, each with {"error": "..."}.
func serveAPI(store *store, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	var req struct {
		operation
		txnRequest
	}
	decoder := json.NewDecoder(io.LimitReader(r.Body, 16<<20))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
		return
	}
	kind := strings.TrimPrefix(r.URL.Path, "/api/")
	if kind != "txn" && req.Key == "" && !(kind == "get" && req.Prefix) {
		reply(w, http.StatusBadRequest, map[string]string{"error": "bad request: the key is empty"})
		return
	}
	var t *txnRequest
	switch kind {
	case "get":
		rev, kvs := store.read(req.Key, req.Prefix)
		reply(w, http.StatusOK, map[string]any{"revision": rev, "kvs": kvs})
		return
	case "put", "delete":
		t = &txnRequest{Success: []operation{{Op: kind, Key: req.Key, Value: req.Value}}}
	case "txn":
		t = &req.txnRequest
		if err := t.validate(); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	default:
		reply(w, http.StatusNotFound, map[string]string{"error": "no such operation: " + kind})
		return
	}
	result, err := store.write(t)
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]string{"error": "write failed: " + err.Error()})
		return
	}
	switch kind {
	case "put":
		reply(w, http.StatusOK, map[string]any{"revision": result.Revision})
	case "delete":
		reply(w, http.StatusOK, map[string]any{"revision": result.Revision, "deleted": result.Results[0]["deleted"]})
	default:
		reply(w, http.StatusOK, result)
	}
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
