package bad

// gofail: var topLevel struct{}

func F() {}
