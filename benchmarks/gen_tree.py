"""Synthetic Go trees for the scaling benchmark: many packages, few files with failpoints."""

from __future__ import annotations

import random
from pathlib import Path

PLAIN = """package {package}

import "fmt"

// Handler{n} does some work; this text pads the file to a realistic size.
func Handler{n}(items []int) (int, error) {{
	total := 0
	for i, item := range items {{
		if item < 0 {{
			return 0, fmt.Errorf("item %d is negative: %d", i, item)
		}}
		total += item * {n}
	}}
	switch {{
	case total > 1000:
		total /= 2
	default:
		total++
	}}
	return total, nil
}}
"""

WITH_FAILPOINT = """package {package}

import "errors"

// Store{n} writes a record; it carries failpoints like etcd's storage code.
func Store{n}(record []byte) error {{
	// gofail: var beforeStore{n} struct{{}}
	if len(record) == 0 {{
		return errors.New("empty record")
	}}
	// gofail: var storeError{n} string
	// if storeError{n} != "" {{
	//	return errors.New(storeError{n})
	// }}
	return nil
}}
"""


def generate_tree(root: Path, files: int, failpoint_ratio: float = 0.01, per_package: int = 20, seed: int = 1) -> int:
    """Writes `files` Go files under root in packages of `per_package`; returns how many hold failpoints."""
    rng = random.Random(seed)
    with_failpoints = 0
    for n in range(files):
        package = f"pkg{n // per_package}"
        folder = root / f"group{n // (per_package * 50)}" / package
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < failpoint_ratio:
            text = WITH_FAILPOINT.format(package=package, n=n)
            with_failpoints += 1
        else:
            text = PLAIN.format(package=package, n=n)
        (folder / f"file{n}.go").write_text(text)
    return with_failpoints
