module example.com/goclient

go 1.21
