from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'report/sort.js.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    pass
    yield '// Click a column heading to sort the table by it; click again to reverse.\ndocument.querySelectorAll("#coverage th").forEach(function (th, column) {\n  th.addEventListener("click", function () {\n    var body = document.querySelector("#coverage tbody");\n    var ascending = !th.classList.contains("asc");\n    var numeric = th.dataset.type === "num";\n    document.querySelectorAll("#coverage th").forEach(function (h) { h.classList.remove("asc", "desc"); });\n    th.classList.add(ascending ? "asc" : "desc");\n    var key = function (row) {\n      var cell = row.cells[column];\n      var text = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;\n      return numeric ? parseFloat(text) || 0 : text.toLowerCase();\n    };\n    Array.from(body.rows).sort(function (a, b) {\n      var x = key(a), y = key(b);\n      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);\n    }).forEach(function (row) { body.appendChild(row); });\n  });\n});\n'

blocks = {}
debug_info = ''