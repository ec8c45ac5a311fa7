package store

import "testing"

func TestPutGet(t *testing.T) {
	s := New()
	// gofail: var testHook struct{}
	if err := s.Put("a", "1"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("a"); err != nil || v != "1" {
		t.Fatalf("got %q %v", v, err)
	}
	if got := Sum(4); got != 6 {
		t.Fatalf("Sum(4) = %d", got)
	}
}
