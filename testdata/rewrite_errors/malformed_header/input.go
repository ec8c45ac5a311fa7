package bad

func F() {
	// gofail: var onlyName
}
