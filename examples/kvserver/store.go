package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// store keeps the keys in memory and every write in an append-only, fsynced log. Writes are
// applied by one committer goroutine, as in a replicated log's apply loop: a panic there takes
// the whole process down (net/http would recover a panic on a handler's goroutine).
type store struct {
	mu     sync.Mutex
	data   map[string]string
	log    *os.File
	writes chan writeRequest
}

type writeRequest struct {
	key, value string
	done       chan error
}

type record struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

var errReadOnly = errors.New("store is read-only")

func openStore(path string) (*store, error) {
	s := &store{data: map[string]string{}}
	if f, err := os.Open(path); err == nil {
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			var rec record
			if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
				break // a torn last line: the write was never acknowledged
			}
			s.data[rec.Key] = rec.Value
		}
		f.Close()
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	s.writes = make(chan writeRequest)
	go s.commitLoop()
	return s, nil
}

// put hands a write to the committer and waits for it to be durable.
func (s *store) put(key, value string) error {
	done := make(chan error, 1)
	s.writes <- writeRequest{key: key, value: value, done: done}
	return <-done
}

func (s *store) commitLoop() {
	for req := range s.writes {
		req.done <- s.commit(req.key, req.value)
	}
}

func (s *store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

func (s *store) get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	value, ok := s.data[key]
	return value, ok
}

// commit is the write path the failpoints sit on: validate, append to the log, apply in memory.
func (s *store) commit(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	// gofail: var slowWrite struct{}

	// gofail: var readOnly bool
	// if readOnly {
	//	return errReadOnly
	// }

	// gofail: var writeError string
	// if writeError != "" {
	//	return errors.New(writeError)
	// }

	// gofail: var truncateValue int
	// if truncateValue < len(value) {
	//	value = value[:truncateValue]
	// }

	line, err := json.Marshal(record{Key: key, Value: value})
	if err != nil {
		return err
	}
	attempts := 0
	// gofail: commitRetry:
	for attempts < 3 {
		attempts++
		// gofail: var flakyDisk struct{}
		// if attempts <= 3 {
		//	continue commitRetry
		// }

		// gofail: var beforeCommit struct{}
		if _, err := s.log.Write(append(line, '\n')); err != nil {
			return err
		}
		if err := s.log.Sync(); err != nil {
			return err
		}
		// gofail: var afterCommit struct{}
		s.data[key] = value
		return nil
	}
	return fmt.Errorf("disk kept failing: gave up after %d attempts", attempts)
}
