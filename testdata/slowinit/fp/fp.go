// Package fp holds the failpoint; it registers only once slow's init has finished.
package fp

import "example.com/slowinit/slow"

var _ = slow.Ready

// Value is what the failpoint returns, or "none" when it is off.
func Value() string {
	// gofail: var lateFailpoint string
	// return lateFailpoint
	return "none"
}
