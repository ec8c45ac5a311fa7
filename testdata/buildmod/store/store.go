// Package store is a library package whose failpoints gofail-py enables for the build test.
package store

import (
	"errors"
	"fmt"
)

// ErrEmptyKey is returned for an empty key.
var ErrEmptyKey = errors.New("empty key")

// Store keeps values in memory.
type Store struct {
	data map[string]string
}

// New returns an empty store.
func New() *Store { return &Store{data: map[string]string{}} }

// Put stores a value; failpoints may fail or rename it.
func (s *Store) Put(key, value string) error {
	if key == "" {
		return ErrEmptyKey
	}
	// gofail: var putFail bool
	// if putFail {
	// 	return errors.New("put failed")
	// }
	// gofail: var putRename string
	// key = putRename
	s.data[key] = value
	// gofail: var afterPut struct{}
	return nil
}

// Sum adds the values 0..n-1, with a failpoint that can stop the loop early.
func Sum(n int) int {
	total := 0
	// gofail: outer:
	for i := 0; i < n; i++ {
		for j := 0; j < 1; j++ {
			// gofail: var sumStopAt int
			// if i == sumStopAt {
			// 	break outer
			// }
		}
		total += i
	}
	return total
}

// Get returns a value.
func (s *Store) Get(key string) (string, error) {
	v, ok := s.data[key]
	if !ok {
		return "", fmt.Errorf("no key %q", key)
	}
	switch key {
	case "slow":
		// gofail: var getSlow struct{}
	default:
	}
	return v, nil
}
