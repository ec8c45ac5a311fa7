// kvserver is a small key-value HTTP server whose write path carries gofail failpoints. It is
// the example gofail-py's demo and tests run against: `PUT /kv/KEY` stores the body, `GET
// /kv/KEY` reads it back, and every acknowledged write is in an fsynced log that a restart
// replays.
package main

import (
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
		value, ok := store.get(key)
		if !ok {
			http.Error(w, "no such key", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, value)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
