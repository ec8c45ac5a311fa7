package testfile_test

import "testing"

func TestSomething(t *testing.T) {
	// gofail: var inTest struct{}
	t.Log("ran")
}
