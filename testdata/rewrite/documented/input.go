package documented

import "fmt"

func Example() {
	// gofail: var Test int
	// fmt.Println(Test)

	// gofail: var OneLine struct{}
	fmt.Println("after")
}
