module example.com/panicnoise

go 1.21

require go.etcd.io/gofail v0.2.0
