package bad

func F() {
	// gofail: var weird map[string]
}
