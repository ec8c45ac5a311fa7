from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'check/history.svg.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_view = resolve('view')
    l_0_label = resolve('label')
    l_0_axis_y = missing
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    pass
    yield '<figure class="history-view'
    yield str((' dense' if environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'dense') else cond_expr_undefined("the inline if-expression on line 1 in 'check/history.svg.j2' evaluated to false and no else section was defined.")))
    yield '" data-operations="'
    yield str(environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'in_view'))
    yield '">\n<svg class="history" xmlns="http://www.w3.org/2000/svg" width="'
    yield str(((environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'left') + environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'width')) + 20))
    yield '" height="'
    yield str(environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'height'))
    yield '" viewBox="0 0 '
    yield str(((environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'left') + environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'width')) + 20))
    yield ' '
    yield str(environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'height'))
    yield '" role="img" aria-label="'
    yield str((undefined(name='label') if l_0_label is missing else l_0_label))
    yield '">\n'
    for l_1_lane in environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'lanes'):
        _loop_vars = {}
        pass
        yield '<g class="hlane" data-client="'
        yield str(environment.getattr(l_1_lane, 'client'))
        yield '"><rect class="hlane-bg" x="0" y="'
        yield str(environment.getattr(l_1_lane, 'y'))
        yield '" width="'
        yield str(((environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'left') + environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'width')) + 20))
        yield '" height="'
        yield str(environment.getattr(l_1_lane, 'height'))
        yield '"/><text class="hlane-name" x="6" y="'
        yield str((environment.getattr(l_1_lane, 'y') + 15))
        yield '">'
        yield str(environment.getattr(l_1_lane, 'name'))
        yield '</text></g>\n'
    l_1_lane = missing
    yield '\n'
    for l_1_c in environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'cells'):
        _loop_vars = {}
        pass
        yield '<rect class="density" x="'
        yield str(environment.getattr(l_1_c, 'x'))
        yield '" y="'
        yield str(environment.getattr(l_1_c, 'y'))
        yield '" width="'
        yield str(environment.getattr(l_1_c, 'w'))
        yield '" height="'
        yield str(environment.getattr(l_1_c, 'h'))
        yield '"><title>'
        yield str(environment.getattr(l_1_c, 'title'))
        yield '</title></rect>\n'
    l_1_c = missing
    yield '\n'
    for l_1_m in environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'marks'):
        _loop_vars = {}
        pass
        yield '<rect class="'
        yield str(environment.getattr(l_1_m, 'kind'))
        yield '" x="'
        yield str(environment.getattr(l_1_m, 'x'))
        yield '" y="'
        yield str(environment.getattr(l_1_m, 'y'))
        yield '" width="'
        yield str(environment.getattr(l_1_m, 'w'))
        yield '" height="'
        yield str(environment.getattr(l_1_m, 'h'))
        yield '"><title>'
        yield str(environment.getattr(l_1_m, 'title'))
        yield '</title></rect>\n'
    l_1_m = missing
    yield '\n'
    for l_1_b in environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'bars'):
        _loop_vars = {}
        pass
        yield '<g class="'
        yield str(environment.getattr(l_1_b, 'kind'))
        yield '"><rect x="'
        yield str(environment.getattr(l_1_b, 'x'))
        yield '" y="'
        yield str(environment.getattr(l_1_b, 'y'))
        yield '" width="'
        yield str(environment.getattr(l_1_b, 'w'))
        yield '" height="'
        yield str(environment.getattr(l_1_b, 'h'))
        yield '"/>'
        if environment.getattr(l_1_b, 'open'):
            pass
            yield '<path class="open-end" d="M'
            yield str(((environment.getattr(l_1_b, 'x') + environment.getattr(l_1_b, 'w')) - 6))
            yield ','
            yield str((environment.getattr(l_1_b, 'y') - 1))
            yield ' l6,'
            yield str(((environment.getattr(l_1_b, 'h') / 2) + 1))
            yield ' l-6,'
            yield str(((environment.getattr(l_1_b, 'h') / 2) + 1))
            yield 'z"/>'
        yield '<title>'
        yield str(environment.getattr(l_1_b, 'title'))
        yield '</title>'
        if (environment.getattr(l_1_b, 'label') and (environment.getattr(l_1_b, 'open') or (environment.getattr(l_1_b, 'w') >= ((6 * t_1(environment.getattr(l_1_b, 'label'))) + 2)))):
            pass
            yield '<text class="num" x="'
            yield str(((environment.getattr(l_1_b, 'x') + (environment.getattr(l_1_b, 'w') / 2)) if (not environment.getattr(l_1_b, 'open')) else (environment.getattr(l_1_b, 'x') + 3)))
            yield '" y="'
            yield str(((environment.getattr(l_1_b, 'y') + environment.getattr(l_1_b, 'h')) - (4 if (not environment.getattr(l_1_b, 'open')) else 1.5)))
            yield '" text-anchor="'
            yield str(('middle' if (not environment.getattr(l_1_b, 'open')) else 'start'))
            yield '">'
            yield str(environment.getattr(l_1_b, 'label'))
            yield '</text>'
        yield '</g>\n'
    l_1_b = missing
    yield '\n<g class="haxis">'
    l_0_axis_y = (environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'height') - 28)
    context.vars['axis_y'] = l_0_axis_y
    context.exported_vars.add('axis_y')
    yield '<line x1="'
    yield str(environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'left'))
    yield '" x2="'
    yield str((environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'left') + environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'width')))
    yield '" y1="'
    yield str((undefined(name='axis_y') if l_0_axis_y is missing else l_0_axis_y))
    yield '" y2="'
    yield str((undefined(name='axis_y') if l_0_axis_y is missing else l_0_axis_y))
    yield '"/>'
    for l_1_t in environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'ticks'):
        _loop_vars = {}
        pass
        yield '<line x1="'
        yield str(environment.getattr(l_1_t, 'x'))
        yield '" x2="'
        yield str(environment.getattr(l_1_t, 'x'))
        yield '" y1="'
        yield str((undefined(name='axis_y') if l_0_axis_y is missing else l_0_axis_y))
        yield '" y2="'
        yield str(((undefined(name='axis_y') if l_0_axis_y is missing else l_0_axis_y) + 5))
        yield '"/><text x="'
        yield str(environment.getattr(l_1_t, 'x'))
        yield '" y="'
        yield str(((undefined(name='axis_y') if l_0_axis_y is missing else l_0_axis_y) + 17))
        yield '" text-anchor="middle">'
        yield str(environment.getattr(l_1_t, 'label'))
        yield '</text>'
    l_1_t = missing
    yield '</g>\n</svg>\n'
    if environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'note'):
        pass
        yield '<figcaption class="history-note">'
        yield str(environment.getattr((undefined(name='view') if l_0_view is missing else l_0_view), 'note'))
        yield '</figcaption>'
    yield '\n</figure>\n'

blocks = {}
debug_info = '1=21&2=25&3=35&5=53&7=69&9=87&11=129&13=161'