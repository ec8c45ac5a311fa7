"""The rewriter: `// gofail:` comments in Go source turned into failpoint code and back, byte for
byte as gofail v0.2.0 does (`gofail-py enable`, `disable`, `list`).

Pure transforms of one file's bytes at the bottom (syntax, toplevel, markers, render, rewrite),
the part that touches disk above them (gofiles finds and reads the files, collect is the read
loop, cache and worker make repeated and big runs fast, fileio writes atomically, runlock keeps
one run per module, gomod and goproc handle go.mod), and workspace, which plans a run and applies
it all or nothing. It offers the others workspace's enable, disable and list_failpoints, the
source inventory's item LocatedFailpoint, and fileio.write_atomic. It knows nothing of running
binaries.

Must not import: gofail_py.recording, gofail_py.client, gofail_py.processes, gofail_py.report,
    gofail_py.scenario, gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.history,
    gofail_py.check, gofail_py.traffic
"""
