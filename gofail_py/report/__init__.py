"""Fault coverage: journals joined with the source inventory per failpoint (coverage), one run's
timeline laid out as shapes (timeline), and the self-contained HTML page (html).

It offers the others build, Coverage, render_html and write_report. It reads journals and an
inventory; it runs nothing and talks to no endpoint.

Must not import: gofail_py.client, gofail_py.processes, gofail_py.scenario, gofail_py.explore,
    gofail_py.pytest, gofail_py.cli, gofail_py.traffic
"""
