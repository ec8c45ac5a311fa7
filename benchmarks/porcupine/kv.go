package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// kv is one key's entry; a store is one possible state of etcd's key-value store. A store is
// never changed once made (Porcupine's Step must be pure): a write makes a new one.
type kv struct {
	Key            string `json:"key"`
	Value          string `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
}

type store struct {
	rev  int64
	keys map[string]kv
	hash uint64
}

type kvStep struct {
	Op     string `json:"op"`
	Key    string `json:"key"`
	Value  string `json:"value"`
	Prefix bool   `json:"prefix"`
}

type compare struct {
	Key    string          `json:"key"`
	Target string          `json:"target"`
	Value  json.RawMessage `json:"value"`
	text   string          // target "value"
	number int64           // the revisions and the version
}

type kvInput struct {
	kvStep
	Compare []compare `json:"compare"`
	Success []kvStep  `json:"success"`
	Failure []kvStep  `json:"failure"`
}

type kvResult struct {
	Kvs     []kv  `json:"kvs"`
	Deleted int64 `json:"deleted"`
}

type kvOutput struct {
	Revision  int64      `json:"revision"`
	Succeeded bool       `json:"succeeded"`
	Results   []kvResult `json:"results"`
	kvResult
}

func parseKv(op string, input, output json.RawMessage) (interface{}, interface{}, error) {
	in := &kvInput{}
	if err := json.Unmarshal(input, in); err != nil {
		return nil, nil, fmt.Errorf("input: %v", err)
	}
	in.Op = op
	switch op {
	case "put", "get", "delete":
	case "txn":
		for i := range in.Compare {
			c := &in.Compare[i]
			var err error
			if c.Target == "value" {
				err = json.Unmarshal(c.Value, &c.text)
			} else {
				err = json.Unmarshal(c.Value, &c.number)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("compare value: %v", err)
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown kv operation %q", op)
	}
	if output == nil {
		return in, nil, nil
	}
	out := &kvOutput{}
	if err := json.Unmarshal(output, out); err != nil {
		return nil, nil, fmt.Errorf("output: %v", err)
	}
	return in, out, nil
}

func newStore(rev int64, keys map[string]kv) *store {
	s := &store{rev: rev, keys: keys}
	h := fnv.New64a()
	fmt.Fprint(h, rev)
	s.hash = h.Sum64()
	for _, entry := range keys { // XOR: the same for any order of the map
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%d", entry.Key, entry.Value, entry.CreateRevision, entry.ModRevision, entry.Version)
		s.hash ^= h.Sum64()
	}
	return s
}

func (s *store) equal(o *store) bool {
	if s == o {
		return true
	}
	if s.hash != o.hash || s.rev != o.rev || len(s.keys) != len(o.keys) {
		return false
	}
	for key, entry := range s.keys {
		if other, ok := o.keys[key]; !ok || other != entry {
			return false
		}
	}
	return true
}

func (s *store) read(step kvStep, keys map[string]kv) []kv {
	if !step.Prefix {
		if entry, ok := keys[step.Key]; ok {
			return []kv{entry}
		}
		return nil
	}
	var found []kv
	for key, entry := range keys {
		if strings.HasPrefix(key, step.Key) {
			found = append(found, entry)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Key < found[j].Key })
	return found
}

// write applies a put or delete at revision rev to keys (a copy the caller owns); it reports
// whether anything changed.
func write(step kvStep, rev int64, keys map[string]kv) (kvResult, bool) {
	old, exists := keys[step.Key]
	if step.Op == "put" {
		entry := kv{Key: step.Key, Value: step.Value, CreateRevision: rev, ModRevision: rev, Version: 1}
		if exists {
			entry.CreateRevision, entry.Version = old.CreateRevision, old.Version+1
		}
		keys[step.Key] = entry
		return kvResult{}, true
	}
	if exists {
		delete(keys, step.Key)
		return kvResult{Deleted: 1}, true
	}
	return kvResult{}, false
}

func (s *store) copyKeys() map[string]kv {
	keys := make(map[string]kv, len(s.keys)+1)
	for key, entry := range s.keys {
		keys[key] = entry
	}
	return keys
}

func (s *store) holds(c compare) bool {
	entry, ok := s.keys[c.Key]
	if !ok { // etcd: no value equals a missing key's; its revisions and version read as 0
		return c.Target != "value" && c.number == 0
	}
	switch c.Target {
	case "value":
		return entry.Value == c.text
	case "mod_revision":
		return entry.ModRevision == c.number
	case "create_revision":
		return entry.CreateRevision == c.number
	case "version":
		return entry.Version == c.number
	}
	return false
}

// apply runs one operation on s: the next store and the output etcd would give.
func (s *store) apply(in *kvInput) (*store, kvOutput) {
	switch in.Op {
	case "get":
		return s, kvOutput{Revision: s.rev, kvResult: kvResult{Kvs: s.read(in.kvStep, s.keys)}}
	case "put", "delete":
		keys := s.copyKeys()
		result, changed := write(in.kvStep, s.rev+1, keys)
		if !changed {
			return s, kvOutput{Revision: s.rev, kvResult: result}
		}
		return newStore(s.rev+1, keys), kvOutput{Revision: s.rev + 1, kvResult: result}
	}
	succeeded := true
	for _, c := range in.Compare {
		succeeded = succeeded && s.holds(c)
	}
	steps := in.Failure
	if succeeded {
		steps = in.Success
	}
	keys, copied, changed := s.keys, false, false
	out := kvOutput{Succeeded: succeeded}
	for _, step := range steps {
		if step.Op == "get" {
			out.Results = append(out.Results, kvResult{Kvs: s.read(step, keys)})
			continue
		}
		if !copied { // the txn's reads after this write see it, as in etcd
			keys, copied = s.copyKeys(), true
		}
		result, did := write(step, s.rev+1, keys)
		changed = changed || did
		out.Results = append(out.Results, result)
	}
	if !changed {
		out.Revision = s.rev
		return s, out
	}
	out.Revision = s.rev + 1
	return newStore(s.rev+1, keys), out
}

func sameKvs(a, b []kv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// matches says whether the recorded output is the one computed for the operation.
func matches(in *kvInput, got, want kvOutput) bool {
	if got.Revision != want.Revision {
		return false
	}
	switch in.Op {
	case "get":
		return sameKvs(got.Kvs, want.Kvs)
	case "put":
		return true
	case "delete":
		return got.Deleted == want.Deleted
	}
	if got.Succeeded != want.Succeeded || len(got.Results) != len(want.Results) {
		return false
	}
	steps := in.Failure
	if want.Succeeded {
		steps = in.Success
	}
	for i, step := range steps {
		if step.Op == "get" && !sameKvs(got.Results[i].Kvs, want.Results[i].Kvs) ||
			step.Op == "delete" && got.Results[i].Deleted != want.Results[i].Deleted {
			return false
		}
	}
	return true
}

// kvModel: a state is the set of stores the history so far allows (more than one only after an
// indeterminate write). The revision counter is shared by every key, so the history is checked
// as one part: a split per key would miss an answer whose revision counts another key's write.
func kvModel() porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return []*store{newStore(1, map[string]kv{})} },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			in := input.(*kvInput)
			var next []*store
			for _, s := range state.([]*store) {
				after, computed := s.apply(in)
				if output == nil { // indeterminate: it never took effect, or it did
					next = addStore(addStore(next, s), after)
				} else if matches(in, *output.(*kvOutput), computed) {
					next = addStore(next, after)
				}
			}
			return len(next) > 0, next
		},
		Equal: func(a, b interface{}) bool {
			left, right := a.([]*store), b.([]*store)
			if len(left) != len(right) {
				return false
			}
			for _, s := range left {
				if !containsStore(right, s) {
					return false
				}
			}
			return true
		},
		Hash: func(state interface{}) uint64 {
			var h uint64
			for _, s := range state.([]*store) {
				h ^= s.hash
			}
			return h
		},
		DescribeOperation: func(input, output interface{}) string {
			in, text := input.(*kvInput), "?"
			if output != nil {
				encoded, _ := json.Marshal(output.(*kvOutput))
				text = string(encoded)
			}
			encoded, _ := json.Marshal(in)
			return fmt.Sprintf("%s %s -> %s", in.Op, encoded, text)
		},
		DescribeState: func(state interface{}) string {
			var parts []string
			for _, s := range state.([]*store) {
				parts = append(parts, fmt.Sprintf("rev %d %v", s.rev, s.keys))
			}
			return strings.Join(parts, " | ")
		},
	}
}

func containsStore(stores []*store, s *store) bool {
	for _, other := range stores {
		if other.equal(s) {
			return true
		}
	}
	return false
}

func addStore(stores []*store, s *store) []*store {
	if containsStore(stores, s) {
		return stores
	}
	return append(stores, s)
}
