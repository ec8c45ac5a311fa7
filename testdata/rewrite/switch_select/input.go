package sw

func Dispatch(kind int, ch chan int) int {
	switch kind {
	case 1:
		// gofail: var caseOne struct{}
		return 1
	default:
		// gofail: var caseDefault int
		// kind = caseDefault
	}
	select {
	case v := <-ch:
		// gofail: var onReceive struct{}
		return v
	default:
	}
	return kind
}
