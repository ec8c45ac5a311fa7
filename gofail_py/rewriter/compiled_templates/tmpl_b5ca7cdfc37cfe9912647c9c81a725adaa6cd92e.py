from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'failpoint_close.go.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_name = resolve('name')
    l_0_RUNTIME_PREFIX = resolve('RUNTIME_PREFIX')
    l_0_VALUE_PREFIX = resolve('VALUE_PREFIX')
    l_0_type = resolve('type')
    pass
    yield '; goto __nomock'
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield '; __badType'
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield ': '
    yield str((undefined(name='RUNTIME_PREFIX') if l_0_RUNTIME_PREFIX is missing else l_0_RUNTIME_PREFIX))
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield '.BadType('
    yield str((undefined(name='VALUE_PREFIX') if l_0_VALUE_PREFIX is missing else l_0_VALUE_PREFIX))
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield ', "'
    yield str((undefined(name='type') if l_0_type is missing else l_0_type))
    yield '"); __nomock'
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield ': };'

blocks = {}
debug_info = '1=16'