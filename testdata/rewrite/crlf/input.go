package crlf

func F() int {
	// gofail: var crlfPoint int
	// return crlfPoint
	return 0
}
