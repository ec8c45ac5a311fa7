package main

func main() {
	// gofail: var mainFailpoint struct{}
	println("hello")
}
