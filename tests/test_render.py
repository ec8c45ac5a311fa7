"""render.py renders with a context made from the template's globals copied once: every byte is
still what Jinja2's own Template.render makes of the same template and values."""

from __future__ import annotations

import pytest

from gofail_py.rewriter import render

CASES = [
    ("failpoint_open.go.j2", {"indent": "\t\t", "name": "fpé", "type": "map[string]int", "value_var": "_"}),
    ("failpoint_close.go.j2", {"name": "fp1", "type": "struct{}"}),
    ("failpoint_comment.go.j2", {"indent": "  ", "name": "fp", "type": "string"}),
    ("binding.go.j2", {"package": "main", "names": ["a", "bé", 'q"uote'], "constraints": ()}),
    ("binding.go.j2", {"package": "p", "names": [], "constraints": ()}),
    ("binding.go.j2", {"package": "p", "names": ["a"], "constraints": ("//go:build linux && !cgo", "// +build linux,!cgo")}),
    ("marker_prefix.go.j2", {}),
    ("label_enabled.go.j2", {}),
]


@pytest.mark.parametrize(("name", "values"), CASES)
def test_rendering_is_what_template_render_gives(name: str, values: dict[str, object]) -> None:
    template = render._environment().get_template(name)
    assert render._render(name, **values) == template.render(**values).encode("utf-8")
    assert render._render(name, **values) == render._render(name, **values), "no state kept between renders"


def test_the_footer_needle_is_cut_from_the_rendered_footer() -> None:
    for name in ("x", "fpLong_9"):
        footer = render.failpoint_close(name, "int")
        assert render.footer_needle(name) in footer and footer.startswith(render.footer_needle(name))
