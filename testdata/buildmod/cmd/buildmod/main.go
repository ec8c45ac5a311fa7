// Command buildmod is a package main whose failpoints gofail-py enables for the build test.
package main

import (
	"fmt"

	"example.com/buildmod/store"
)

func main() {
	s := store.New()
	// gofail: var mainCount int
	// for i := 0; i < mainCount; i++ {
	// 	fmt.Println("tick", i)
	// }
	if err := s.Put("k", "v"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(store.Sum(3))
}
