package main

import (
	"encoding/json"
	"fmt"
)

// The JSON shapes of the /api/ requests and answers: those of gofail-py's `kv` model
// (docs/check.md), so a recorded history holds them as they went over the wire.

type compare struct {
	Key    string          `json:"key"`
	Target string          `json:"target"` // value | mod_revision | create_revision | version
	Value  json.RawMessage `json:"value"`  // a string for value, an integer otherwise
}

type operation struct {
	Op     string `json:"op"` // put | get | delete
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Prefix bool   `json:"prefix,omitempty"`
}

type txnRequest struct {
	Compare []compare   `json:"compare"`
	Success []operation `json:"success"`
	Failure []operation `json:"failure"`
}

// opResult is one operation's answer inside a txn: {} for a put, {"kvs"} for a get, {"deleted"}.
type opResult map[string]any

type txnResult struct {
	Revision  int64      `json:"revision"`
	Succeeded bool       `json:"succeeded"`
	Results   []opResult `json:"results"`
}

func (t *txnRequest) validate() error {
	for _, c := range t.Compare {
		switch c.Target {
		case "value":
			var s string
			if json.Unmarshal(c.Value, &s) != nil {
				return fmt.Errorf("compare on %q: a value compare needs a string", c.Key)
			}
		case "mod_revision", "create_revision", "version":
			var n int64
			if json.Unmarshal(c.Value, &n) != nil {
				return fmt.Errorf("compare on %q: a %s compare needs an integer", c.Key, c.Target)
			}
		default:
			return fmt.Errorf("compare on %q: unknown target %q", c.Key, c.Target)
		}
	}
	for _, branch := range [][]operation{t.Success, t.Failure} {
		for _, op := range branch {
			if op.Op != "put" && op.Op != "get" && op.Op != "delete" {
				return fmt.Errorf("unknown operation %q in a txn", op.Op)
			}
		}
	}
	return nil
}

// holds says whether one compare is true on the draft. A missing key has revisions and version 0
// and equals no value.
func (c compare) holds(d *draft) bool {
	kv, ok := d.lookup(c.Key)
	if c.Target == "value" {
		var want string
		_ = json.Unmarshal(c.Value, &want)
		return ok && kv.Value == want
	}
	var want int64
	_ = json.Unmarshal(c.Value, &want)
	switch c.Target {
	case "mod_revision":
		return kv.ModRevision == want
	case "create_revision":
		return kv.CreateRevision == want
	}
	return kv.Version == want
}

// evaluate runs the txn on a draft over st: the first failing compare picks the failure branch,
// the branch's operations run in order. It gives the answer (its revision still to be set) and
// the changes to commit; no changes: nothing to write, and the revision stays.
func (t *txnRequest) evaluate(st *state) (txnResult, []change) {
	d := &draft{st: st, rev: st.rev + 1, written: map[string]*keyValue{}}
	succeeded := true
	for _, c := range t.Compare {
		if !c.holds(d) {
			succeeded = false
			break
		}
	}
	branch := t.Failure
	if succeeded {
		branch = t.Success
	}
	results := make([]opResult, 0, len(branch))
	for _, op := range branch {
		switch op.Op {
		case "put":
			d.put(op.Key, op.Value)
			results = append(results, opResult{})
		case "get":
			results = append(results, opResult{"kvs": d.get(op.Key, op.Prefix)})
		default:
			results = append(results, opResult{"deleted": d.remove(op.Key)})
		}
	}
	return txnResult{Revision: st.rev, Succeeded: succeeded, Results: results}, d.changes
}
