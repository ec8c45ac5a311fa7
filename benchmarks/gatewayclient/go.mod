module example.com/gatewayclient

go 1.21
