package main

import (
	"sort"
	"strings"
)

// keyValue is one key as a read answers it (etcd's mvccpb.KeyValue, the `kv` model's shape).
type keyValue struct {
	Key            string `json:"key"`
	Value          string `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
}

// change is one key written by a revision: a put of Value, or a delete.
type change struct {
	Key    string `json:"k"`
	Value  string `json:"v,omitempty"`
	Delete bool   `json:"d,omitempty"`
}

// undoRecord says what a key was before revision rev changed it (nil: it did not exist).
type undoRecord struct {
	rev    int64
	key    string
	before *keyValue
}

// keptRevisions bounds the undo log: reads can go back this many revisions, no further.
const keptRevisions = 1000

// state is the store in memory: the keys, the revision counter (1 on an empty store, raised once
// by every revision that changed something) and the undo log of the last revisions, which is what
// lets a read be served "from an old snapshot".
type state struct {
	rev  int64
	kvs  map[string]keyValue
	undo []undoRecord
}

func newState() *state {
	return &state{rev: 1, kvs: map[string]keyValue{}}
}

// apply makes revision rev out of changes (all share it, as in one etcd txn).
func (st *state) apply(rev int64, changes []change) {
	for _, c := range changes {
		old, existed := st.kvs[c.Key]
		var before *keyValue
		if existed {
			saved := old
			before = &saved
		}
		if c.Delete {
			if !existed {
				continue
			}
			delete(st.kvs, c.Key)
		} else if existed {
			st.kvs[c.Key] = keyValue{c.Key, c.Value, old.CreateRevision, rev, old.Version + 1}
		} else {
			st.kvs[c.Key] = keyValue{c.Key, c.Value, rev, rev, 1}
		}
		st.undo = append(st.undo, undoRecord{rev, c.Key, before})
	}
	st.rev = rev
	drop := 0
	for drop < len(st.undo) && st.undo[drop].rev <= rev-keptRevisions {
		drop++
	}
	if drop > 0 {
		st.undo = append([]undoRecord(nil), st.undo[drop:]...)
	}
}

// oldest is the earliest revision a read can still be served at.
func (st *state) oldest() int64 {
	return max(1, st.rev-keptRevisions+1)
}

func matches(name, key string, prefix bool) bool {
	if prefix {
		return strings.HasPrefix(name, key)
	}
	return name == key
}

// rangeAt is what a read of key (or of every key starting with it) answered at revision rev:
// the keys now, with the changes of later revisions undone, newest first. Sorted by key.
func (st *state) rangeAt(rev int64, key string, prefix bool) []keyValue {
	found := map[string]keyValue{}
	for name, kv := range st.kvs {
		if matches(name, key, prefix) {
			found[name] = kv
		}
	}
	for i := len(st.undo) - 1; i >= 0 && st.undo[i].rev > rev; i-- {
		u := st.undo[i]
		if !matches(u.key, key, prefix) {
			continue
		}
		if u.before == nil {
			delete(found, u.key)
		} else {
			found[u.key] = *u.before
		}
	}
	return sorted(found)
}

func sorted(found map[string]keyValue) []keyValue {
	out := make([]keyValue, 0, len(found))
	for _, kv := range found {
		out = append(out, kv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// draft is a txn in progress: its writes so far over the state, so that a get later in the same
// txn sees a put earlier in it. Nothing reaches the state until the revision is committed.
type draft struct {
	st      *state
	rev     int64 // the revision the txn's writes will get
	written map[string]*keyValue
	changes []change
}

func (d *draft) lookup(key string) (keyValue, bool) {
	if kv, ok := d.written[key]; ok {
		if kv == nil {
			return keyValue{}, false
		}
		return *kv, true
	}
	kv, ok := d.st.kvs[key]
	return kv, ok
}

func (d *draft) get(key string, prefix bool) []keyValue {
	found := map[string]keyValue{}
	for name, kv := range d.st.kvs {
		if matches(name, key, prefix) {
			found[name] = kv
		}
	}
	for name, kv := range d.written {
		if !matches(name, key, prefix) {
			continue
		}
		if kv == nil {
			delete(found, name)
		} else {
			found[name] = *kv
		}
	}
	return sorted(found)
}

func (d *draft) put(key, value string) {
	kv := keyValue{key, value, d.rev, d.rev, 1}
	if old, ok := d.lookup(key); ok {
		kv.CreateRevision, kv.Version = old.CreateRevision, old.Version+1
	}
	d.written[key] = &kv
	d.changes = append(d.changes, change{Key: key, Value: value})
}

func (d *draft) remove(key string) int64 {
	if _, ok := d.lookup(key); !ok {
		return 0
	}
	d.written[key] = nil
	d.changes = append(d.changes, change{Key: key, Delete: true})
	return 1
}
