module example.com/slowinit

go 1.21

require go.etcd.io/gofail v0.2.0
