module example.com/kvserver

go 1.21

// The failpoint runtime: imported only once `gofail-py enable` has written store.fail.go, so
// `go mod tidy` on the disabled source would drop it; keeping it here lets enable + build work
// without changing go.mod (the demo leaves the tree as it found it).
require go.etcd.io/gofail v0.2.0
