package indent

func Deep() {
// gofail: var atColumnZero struct{}
	if true {
		if true {
			// gofail: var threeTabs string
			// _ = threeTabs
		}
	}
    // gofail: var fourSpaces struct{}
	func() {
		// gofail: var inClosure struct{}
	}()
}
