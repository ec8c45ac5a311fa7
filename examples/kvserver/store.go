package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// store keeps the keys in memory (with their revisions) and every revision in an append-only,
// fsynced log. Writes are applied by one committer goroutine, as in a replicated log's apply loop:
// a panic there takes the whole process down (net/http would recover a panic on a handler's
// goroutine).
type store struct {
	mu     sync.Mutex
	state  *state
	log    *os.File
	writes chan writeRequest
}

type writeRequest struct {
	txn  *txnRequest
	done chan writeResult
}

type writeResult struct {
	result txnResult
	err    error
}

// record is one line of the log: a revision and what it changed.
type record struct {
	Revision int64    `json:"r"`
	Changes  []change `json:"c"`
}

var errReadOnly = errors.New("store is read-only")

func openStore(path string) (*store, error) {
	s := &store{state: newState()}
	if f, err := os.Open(path); err == nil {
		scanner := bufio.NewScanner(f)
		scanner.Buffer(make([]byte, 64*1024), 64*1024*1024)
		for scanner.Scan() {
			var rec record
			if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
				break // a torn last line: the write was never acknowledged
			}
			s.state.apply(rec.Revision, rec.Changes)
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

// put stores one key (the /kv/ API): a txn of one put.
func (s *store) put(key, value string) error {
	_, err := s.write(&txnRequest{Success: []operation{{Op: "put", Key: key, Value: value}}})
	return err
}

// write hands a txn to the committer and waits until its writes are durable.
func (s *store) write(t *txnRequest) (txnResult, error) {
	done := make(chan writeResult, 1)
	s.writes <- writeRequest{txn: t, done: done}
	got := <-done
	return got.result, got.err
}

func (s *store) commitLoop() {
	for req := range s.writes {
		result, err := s.commit(req.txn)
		req.done <- writeResult{result, err}
	}
}

func (s *store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.state.kvs)
}

// read answers a get: the keys and the revision they are at.
func (s *store) read(key string, prefix bool) (int64, []keyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := s.state.rev

	// Seeded bug: serve the read from a snapshot staleRead revisions old.
	// gofail: var staleRead int
	// rev = max(s.state.oldest(), rev-int64(staleRead))

	return rev, s.state.rangeAt(rev, key, prefix)
}

// commit is the write path the failpoints sit on: evaluate the txn, validate, append its
// revision to the log, apply it in memory. A txn that changes nothing writes nothing.
func (s *store) commit(t *txnRequest) (txnResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	result, changes := t.evaluate(s.state)
	if len(changes) == 0 {
		return result, nil
	}

	// gofail: var slowWrite struct{}

	// gofail: var readOnly bool
	// if readOnly {
	//	return result, errReadOnly
	// }

	// gofail: var writeError string
	// if writeError != "" {
	//	return result, errors.New(writeError)
	// }

	// gofail: var truncateValue int
	// for i, c := range changes {
	//	if !c.Delete && truncateValue < len(c.Value) {
	//		changes[i].Value = c.Value[:truncateValue]
	//	}
	// }

	rev := s.state.rev + 1
	result.Revision = rev

	// Seeded bug: acknowledge the write, then forget it (neither logged nor applied).
	forget := false
	// gofail: var forgetWrite struct{}
	// forget = true
	if forget {
		return result, nil
	}

	line, err := json.Marshal(record{Revision: rev, Changes: changes})
	if err != nil {
		return result, err
	}
	attempts := 0
	// gofail: commitRetry:
	for attempts < 3 {
		attempts++
		// gofail: var flakyDisk struct{}
		// if attempts <= 3 {
		//	continue commitRetry
		// }

		durable := true
		// Seeded bug: acknowledge without writing the log, as a disk that lies about fsync:
		// the write lives in memory only, and a restart takes the revision back.
		// gofail: var skipSync struct{}
		// durable = false

		// gofail: var beforeCommit struct{}
		if durable {
			if _, err := s.log.Write(append(line, '\n')); err != nil {
				return result, err
			}
			if err := s.log.Sync(); err != nil {
				return result, err
			}
		}
		// gofail: var afterCommit struct{}
		s.state.apply(rev, changes)

		// Seeded bug: apply the write a second time, at the next revision.
		// gofail: var applyTwice struct{}
		// s.state.apply(rev+1, changes)

		return result, nil
	}
	return result, fmt.Errorf("disk kept failing: gave up after %d attempts", attempts)
}
