package bad

func F() {
	// gofail: var 9lives struct{}
}
