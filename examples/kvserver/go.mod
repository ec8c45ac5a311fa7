module example.com/kvserver

go 1.21
