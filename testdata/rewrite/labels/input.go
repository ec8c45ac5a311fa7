package labels

func Loop(items []int) int {
	sum := 0
	// gofail: outer:
	for _, item := range items {
		for i := 0; i < item; i++ {
			// gofail: var skipItem bool
			// if skipItem {
			//	continue outer
			// }
			sum += i
		}
	}
	return sum
}
