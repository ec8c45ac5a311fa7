package bad

func F() {
	s := "ü" // gofail: var notAMarker int
	/* ü */ _ = s
	// gofail: var ünïcode
}
