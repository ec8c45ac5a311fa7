package bad

func F() {
	// gofail: var twice struct{}
	println()
	// gofail: var twice struct{}
}
