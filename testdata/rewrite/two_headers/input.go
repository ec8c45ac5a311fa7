package two

func F() {
	// gofail: var first struct{}
	// gofail: var second struct{}
	println("x")
}
