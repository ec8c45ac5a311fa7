from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'report/report.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_matrix = resolve('matrix')
    l_0_coverage = resolve('coverage')
    l_0_timelines = resolve('timelines')
    try:
        t_1 = environment.filters['format']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'format' found.")
    try:
        t_2 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_3 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_4 = environment.filters['sort']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'sort' found.")
    try:
        t_5 = environment.filters['truncate']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'truncate' found.")
    try:
        t_6 = environment.tests['false']
    except KeyError:
        @internalcode
        def t_6(*unused):
            raise TemplateRuntimeError("No test named 'false' found.")
    try:
        t_7 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_7(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    yield '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>gofail-py '
    yield str(('explore' if (undefined(name='matrix') if l_0_matrix is missing else l_0_matrix) else 'fault coverage'))
    yield '</title>\n<style>\n'
    template = environment.get_template('report/report.css.j2', 'report/report.html.j2')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield '\n</style>\n</head>\n<body>\n'
    if (undefined(name='matrix') if l_0_matrix is missing else l_0_matrix):
        pass
        yield '\n<h1>Explore: failpoint × terms</h1>\n<p class="summary" id="matrix-summary">'
        yield str(environment.getattr((undefined(name='matrix') if l_0_matrix is missing else l_0_matrix), 'summary'))
        yield '</p>\n<table id="matrix">\n<thead><tr><th>failpoint</th>'
        for l_1_terms in environment.getattr((undefined(name='matrix') if l_0_matrix is missing else l_0_matrix), 'terms'):
            _loop_vars = {}
            pass
            yield '<th>'
            yield str(l_1_terms)
            yield '</th>'
        l_1_terms = missing
        yield '</tr></thead>\n<tbody>\n'
        for l_1_row in environment.getattr((undefined(name='matrix') if l_0_matrix is missing else l_0_matrix), 'rows'):
            _loop_vars = {}
            pass
            yield '<tr><th>'
            yield str(environment.getattr(l_1_row, 'failpoint'))
            yield '</th>'
            for l_2_cell in environment.getattr(l_1_row, 'cells'):
                l_2_anchors = resolve('anchors')
                _loop_vars = {}
                pass
                if t_7(l_2_cell):
                    pass
                    yield '<td>-</td>'
                else:
                    pass
                    yield '<td class="'
                    yield str(environment.getattr(l_2_cell, 'outcome'))
                    yield '" title="'
                    yield str(environment.getattr(l_2_cell, 'message'))
                    yield '">'
                    if (environment.getattr(l_2_cell, 'run') in (undefined(name='anchors') if l_2_anchors is missing else l_2_anchors)):
                        pass
                        yield '<a href="#'
                        yield str(environment.getitem((undefined(name='anchors') if l_2_anchors is missing else l_2_anchors), environment.getattr(l_2_cell, 'run')))
                        yield '">'
                        yield str(environment.getattr(l_2_cell, 'outcome'))
                        yield '</a>'
                    else:
                        pass
                        yield str(environment.getattr(l_2_cell, 'outcome'))
                    yield '</td>'
            l_2_cell = l_2_anchors = missing
            yield '</tr>\n'
        l_1_row = missing
        yield '\n</tbody>\n</table>\n'
    yield '\n<h1>Fault coverage</h1>\n<p class="summary" id="summary">'
    yield str(context.call(environment.getattr((undefined(name='coverage') if l_0_coverage is missing else l_0_coverage), 'summary')))
    yield '</p>\n'
    if (not (undefined(name='timelines') if l_0_timelines is missing else l_0_timelines)):
        pass
        yield '<p>No runs recorded.</p>'
    yield '\n'
    for l_1_t in (undefined(name='timelines') if l_0_timelines is missing else l_0_timelines):
        l_1_anchors = resolve('anchors')
        _loop_vars = {}
        pass
        yield '\n<section class="run" id="'
        yield str(environment.getitem((undefined(name='anchors') if l_1_anchors is missing else l_1_anchors), environment.getattr(l_1_t, 'run')))
        yield '">\n<h2>Run '
        yield str((environment.getattr(l_1_t, 'name') or environment.getattr(l_1_t, 'run')))
        if (environment.getattr(l_1_t, 'name') and (environment.getattr(l_1_t, 'name') != environment.getattr(l_1_t, 'run'))):
            pass
            yield ' <small>'
            yield str(environment.getattr(l_1_t, 'run'))
            yield '</small>'
        yield '</h2>\n'
        if environment.getattr(l_1_t, 'failure_message'):
            pass
            yield '<p class="failure-message">✗ '
            yield str(environment.getattr(l_1_t, 'failure_message'))
            yield '</p>'
        yield '\n<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="'
        yield str(environment.getattr(l_1_t, 'width'))
        yield '" height="'
        yield str(environment.getattr(l_1_t, 'height'))
        yield '" viewBox="0 0 '
        yield str(environment.getattr(l_1_t, 'width'))
        yield ' '
        yield str(environment.getattr(l_1_t, 'height'))
        yield '" role="img" aria-label="timeline of run '
        yield str(environment.getattr(l_1_t, 'run'))
        yield '">\n<g class="steps"><text class="lane-name" x="4" y="18">steps</text>\n'
        for l_2_s in environment.getattr(l_1_t, 'steps'):
            _loop_vars = {}
            pass
            yield '<g><rect class="'
            yield str(environment.getattr(l_2_s, 'kind'))
            yield '" x="'
            yield str(environment.getattr(l_2_s, 'x'))
            yield '" y="'
            yield str(environment.getattr(l_2_s, 'y'))
            yield '" width="'
            yield str(environment.getattr(l_2_s, 'w'))
            yield '" height="'
            yield str(environment.getattr(l_2_s, 'h'))
            yield '"/><title>'
            yield str(environment.getattr(l_2_s, 'title'))
            yield '</title>'
            if environment.getattr(l_2_s, 'label'):
                pass
                yield '<text class="step-label" x="'
                yield str((environment.getattr(l_2_s, 'x') + (environment.getattr(l_2_s, 'w') / 2)))
                yield '" y="'
                yield str(((environment.getattr(l_2_s, 'y') + environment.getattr(l_2_s, 'h')) - 4))
                yield '" text-anchor="middle">'
                yield str(environment.getattr(l_2_s, 'label'))
                yield '</text>'
            yield '</g>\n'
        l_2_s = missing
        yield '</g>\n'
        for l_2_lane in environment.getattr(l_1_t, 'lanes'):
            _loop_vars = {}
            pass
            yield '\n<g class="lane" data-process="'
            yield str(environment.getattr(l_2_lane, 'process'))
            yield '">\n<rect class="lane-bg" x="0" y="'
            yield str(environment.getattr(l_2_lane, 'y'))
            yield '" width="'
            yield str(environment.getattr(l_1_t, 'width'))
            yield '" height="'
            yield str(environment.getattr(l_2_lane, 'height'))
            yield '"/>\n<text class="lane-name" x="4" y="'
            yield str((environment.getattr(l_2_lane, 'y') + 15))
            yield '">'
            yield str(t_5(environment, environment.getattr(l_2_lane, 'process'), 22, True, '…'))
            yield '<title>'
            yield str(environment.getattr(l_2_lane, 'process'))
            yield '</title></text>\n'
            for l_3_s in environment.getattr(l_2_lane, 'shapes'):
                _loop_vars = {}
                pass
                if (context.call(environment.getattr(environment.getattr(l_3_s, 'kind'), 'startswith'), 'state', _loop_vars=_loop_vars) or context.call(environment.getattr(environment.getattr(l_3_s, 'kind'), 'startswith'), 'window', _loop_vars=_loop_vars)):
                    pass
                    yield '<g><rect class="'
                    yield str(environment.getattr(l_3_s, 'kind'))
                    yield '" x="'
                    yield str(environment.getattr(l_3_s, 'x'))
                    yield '" y="'
                    yield str(environment.getattr(l_3_s, 'y'))
                    yield '" width="'
                    yield str(environment.getattr(l_3_s, 'w'))
                    yield '" height="'
                    yield str(environment.getattr(l_3_s, 'h'))
                    yield '" rx="2"/><title>'
                    yield str(environment.getattr(l_3_s, 'title'))
                    yield '</title>'
                    if (environment.getattr(l_3_s, 'label') and (environment.getattr(l_3_s, 'w') > ((6 * t_3(environment.getattr(l_3_s, 'label'))) + 6))):
                        pass
                        yield '<text class="bar-label" x="'
                        yield str((environment.getattr(l_3_s, 'x') + 3))
                        yield '" y="'
                        yield str(((environment.getattr(l_3_s, 'y') + environment.getattr(l_3_s, 'h')) - 3))
                        yield '">'
                        yield str(environment.getattr(l_3_s, 'label'))
                        yield '</text>'
                    elif environment.getattr(l_3_s, 'label'):
                        pass
                        yield '<text class="bar-label outside" x="'
                        yield str(((environment.getattr(l_3_s, 'x') + environment.getattr(l_3_s, 'w')) + 3))
                        yield '" y="'
                        yield str(((environment.getattr(l_3_s, 'y') + environment.getattr(l_3_s, 'h')) - 3))
                        yield '">'
                        yield str(environment.getattr(l_3_s, 'label'))
                        yield '</text>'
                    yield '</g>\n'
                else:
                    pass
                    yield '<text class="'
                    yield str(environment.getattr(l_3_s, 'kind'))
                    yield '" x="'
                    yield str((environment.getattr(l_3_s, 'x') - 5))
                    yield '" y="'
                    yield str((environment.getattr(l_3_s, 'y') + 5))
                    yield '">'
                    yield str(environment.getattr(l_3_s, 'label'))
                    yield '<title>'
                    yield str(environment.getattr(l_3_s, 'title'))
                    yield '</title></text>\n'
            l_3_s = missing
            yield '\n</g>\n'
        l_2_lane = missing
        yield '\n<g class="axis">'
        for l_2_a in environment.getattr(l_1_t, 'axis'):
            _loop_vars = {}
            pass
            yield '<line x1="'
            yield str(environment.getattr(l_2_a, 'x'))
            yield '" x2="'
            yield str(environment.getattr(l_2_a, 'x'))
            yield '" y1="'
            yield str(environment.getattr(l_2_a, 'y'))
            yield '" y2="'
            yield str((environment.getattr(l_2_a, 'y') + 5))
            yield '"/><text x="'
            yield str(environment.getattr(l_2_a, 'x'))
            yield '" y="'
            yield str((environment.getattr(l_2_a, 'y') + 17))
            yield '" text-anchor="middle">'
            yield str(environment.getattr(l_2_a, 'label'))
            yield '</text>'
        l_2_a = missing
        yield '</g>\n'
        if environment.getattr(l_1_t, 'failure'):
            pass
            yield '<line class="failure" x1="'
            yield str(environment.getattr(environment.getattr(l_1_t, 'failure'), 'x'))
            yield '" x2="'
            yield str(environment.getattr(environment.getattr(l_1_t, 'failure'), 'x'))
            yield '" y1="0" y2="'
            yield str(environment.getattr(environment.getattr(l_1_t, 'failure'), 'h'))
            yield '"><title>'
            yield str(environment.getattr(environment.getattr(l_1_t, 'failure'), 'title'))
            yield '</title></line>'
        yield '\n</svg>\n<p class="legend"><span class="key running"></span>running <span class="key stopped"></span>stopped <span class="key crashed"></span>crashed <span class="key exited"></span>exited <span class="key window"></span>armed (× hits) <span class="key ok"></span>step passed <span class="key failed"></span>step failed</p>\n</section>\n'
    l_1_t = l_1_anchors = missing
    yield '\n<h2>Failpoints</h2>\n<table id="coverage">\n<thead><tr><th data-type="text">failpoint</th><th data-type="text">location</th><th data-type="num">armed</th><th data-type="num">hits</th><th data-type="num">crashes</th><th data-type="text">processes</th></tr></thead>\n<tbody>\n'
    for l_1_fp in environment.getattr((undefined(name='coverage') if l_0_coverage is missing else l_0_coverage), 'failpoints'):
        _loop_vars = {}
        pass
        yield '<tr class="'
        yield str(('hit' if environment.getattr(l_1_fp, 'hits') else ('armed' if environment.getattr(l_1_fp, 'armed') else 'never')))
        yield str((' outside' if t_6(environment.getattr(l_1_fp, 'in_source')) else cond_expr_undefined("the inline if-expression on line 52 in 'report/report.html.j2' evaluated to false and no else section was defined.")))
        yield '">\n<td>'
        yield str(environment.getattr(l_1_fp, 'name'))
        yield '</td><td>'
        yield str((t_2(context.eval_ctx, environment.getattr(l_1_fp, 'locations'), ', ') or ('not in source' if t_6(environment.getattr(l_1_fp, 'in_source')) else '')))
        yield '</td><td>'
        yield str(environment.getattr(l_1_fp, 'armed'))
        yield '</td><td data-value="'
        yield str(environment.getattr(l_1_fp, 'hits'))
        yield '">'
        yield str((environment.getattr(l_1_fp, 'hits') if environment.getattr(l_1_fp, 'exact') else str_join(('≥', environment.getattr(l_1_fp, 'hits'), ))))
        yield '</td><td>'
        yield str(environment.getattr(l_1_fp, 'crashes'))
        yield '</td><td>'
        yield str(t_2(context.eval_ctx, t_4(environment, environment.getattr(l_1_fp, 'processes')), ', '))
        yield '</td></tr>\n'
    l_1_fp = missing
    yield '\n</tbody>\n</table>\n'
    if environment.getattr((undefined(name='coverage') if l_0_coverage is missing else l_0_coverage), 'unattributed'):
        pass
        yield '<h2>Unattributed crashes</h2><ul>'
        for l_1_c in environment.getattr((undefined(name='coverage') if l_0_coverage is missing else l_0_coverage), 'unattributed'):
            _loop_vars = {}
            pass
            yield '<li>'
            yield str(environment.getattr(l_1_c, 'process'))
            yield ' at '
            yield str(t_1('%.3f', environment.getattr(l_1_c, 'time')))
            yield 's: '
            yield str((environment.getattr(l_1_c, 'message') or 'no panic message'))
            yield ' ('
            yield str(environment.getattr(l_1_c, 'reason'))
            yield ')</li>'
        l_1_c = missing
        yield '</ul>'
    yield '\n<script>\n'
    template = environment.get_template('report/sort.js.j2', 'report/report.html.j2')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield '\n</script>\n</body>\n</html>\n'

blocks = {}
debug_info = '5=57&7=59&11=66&13=69&15=71&17=79&23=115&24=117&25=121&26=126&27=128&28=135&29=141&31=151&33=179&34=183&35=185&36=191&37=197&38=237&42=251&43=271&52=285&53=292&57=308&59=326'