package bad

func F() {
	// gofail: var broken int
	// if broken > {
	// }
}
