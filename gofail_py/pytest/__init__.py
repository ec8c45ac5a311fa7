"""The pytest plugins: fixtures that start gofail-enabled binaries and run scenarios (plugin), the
session's fault coverage (coverage, loaded with plugin), and `@pytest.mark.gofail_explore`
(explore). pyproject's pytest11 entry points name plugin and explore; the older module names
gofail_py.pytest_plugin and gofail_py.pytest_explore, which users give to `-p`, stay importable.

Must not import: gofail_py.cli
"""
