package blockcomment

func f() int {
	/*
	// gofail: var insideBlock struct{}
	*/
	// gofail: var afterBlock int
	// return afterBlock
	return 0
}
