from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'failpoint_comment.go.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_indent = resolve('indent')
    l_0_name = resolve('name')
    l_0_type = resolve('type')
    pass
    yield str((undefined(name='indent') if l_0_indent is missing else l_0_indent))
    yield '// gofail: var '
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield ' '
    yield str((undefined(name='type') if l_0_type is missing else l_0_type))

blocks = {}
debug_info = '1=14'