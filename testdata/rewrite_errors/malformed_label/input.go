package bad

func F() {
	// gofail: not a: label
	for {
	}
}
