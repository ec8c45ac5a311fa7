"""Explore: run one scenario template over every failpoint × terms of a source tree.

The cells come from the rewriter's inventory (cells), each runs as its own `gofail-py run` through
the supervisor (campaign), templates are filled in before the scenario parser reads them
(template), and the results are a matrix and an HTML report beside the coverage one (matrix,
derive, report). It offers the CLI's `explore` and the pytest plugin its Campaign and cells.

Must not import: gofail_py.pytest, gofail_py.cli
"""
