from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'check/picture.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_result = resolve('result')
    l_0_summary = resolve('summary')
    l_0_explanation = resolve('explanation')
    l_0_detail = resolve('detail')
    l_0_overview = resolve('overview')
    try:
        t_1 = environment.filters['capitalize']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'capitalize' found.")
    try:
        t_2 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_3 = environment.filters['replace']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'replace' found.")
    pass
    yield '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>gofail-py check: '
    yield str(environment.getattr((undefined(name='result') if l_0_result is missing else l_0_result), 'verdict'))
    yield '</title>\n<style>\n'
    template = environment.get_template('check/picture.css.j2', 'check/picture.html.j2')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield '\n</style>\n</head>\n<body>\n<h1 class="'
    yield str(t_3(context.eval_ctx, environment.getattr((undefined(name='result') if l_0_result is missing else l_0_result), 'verdict'), ' ', '-'))
    yield '" id="verdict">'
    yield str(t_1(environment.getattr((undefined(name='result') if l_0_result is missing else l_0_result), 'verdict')))
    yield '</h1>\n<p class="summary" id="summary">'
    yield str((undefined(name='summary') if l_0_summary is missing else l_0_summary))
    yield '</p>\n'
    if (environment.getattr((undefined(name='result') if l_0_result is missing else l_0_result), 'verdict') == 'unknown'):
        pass
        yield '<p class="history-note">The deadline came before a verdict: nothing is known about the history beyond what is drawn.</p>'
    yield '\n'
    if (undefined(name='explanation') if l_0_explanation is missing else l_0_explanation):
        pass
        yield '\n<h2>Why not</h2>\n<p>'
        if environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'part'):
            pass
            yield 'In '
            yield str(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'part'))
            yield ': t'
        else:
            pass
            yield 'T'
        yield 'he longest prefix that could be linearized has '
        yield str(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'length'))
        yield ' operation'
        yield str(('s' if (environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'length') != 1) else cond_expr_undefined("the inline if-expression on line 16 in 'check/picture.html.j2' evaluated to false and no else section was defined.")))
        yield ' (blue, the last '
        yield str(t_2(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'shown')))
        yield ' numbered in the order they were linearized). After it, these could not be placed next (red, marked ✕):</p>\n<ul class="unplaced" id="unplaced">\n'
        for l_1_item in environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'unplaced'):
            _loop_vars = {}
            pass
            yield '<li>'
            yield str(environment.getattr(l_1_item, 'line'))
            yield '<br><span class="reason">'
            yield str(environment.getattr(l_1_item, 'reason'))
            yield '</span></li>\n'
        l_1_item = missing
        yield '</ul>\n<h2>Around the violation</h2>\n'
        yield str((undefined(name='detail') if l_0_detail is missing else l_0_detail))
        yield '\n<details id="prefix-details"><summary>The prefix\'s last '
        yield str(t_2(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'shown')))
        yield ' operations, in order, and the state at its end</summary>\n<ol class="prefix" id="prefix" start="'
        yield str(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'first_number'))
        yield '">\n'
        for l_1_line in environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'shown'):
            _loop_vars = {}
            pass
            yield '<li>'
            yield str(l_1_line)
            yield '</li>\n'
        l_1_line = missing
        yield '</ol>\n<pre class="state" id="state">'
        yield str(environment.getattr((undefined(name='explanation') if l_0_explanation is missing else l_0_explanation), 'state'))
        yield '</pre>\n</details>\n'
    yield '\n<h2>The whole history</h2>\n'
    yield str((undefined(name='overview') if l_0_overview is missing else l_0_overview))
    yield '\n<p class="legend"><span class="key prefix"></span>linearized prefix: its last operations, numbered <span class="key early"></span>the rest of the prefix <span class="key unplaced"></span>could not be placed next <span class="key other"></span>other operation <span class="key lost"></span>no answer: open to the end <span class="key density"></span>operations per column (many in range) — hover a bar for its input and output</p>\n</body>\n</html>\n'

blocks = {}
debug_info = '5=35&7=37&11=44&12=48&13=50&14=54&16=57&18=72&21=82&22=84&23=86&24=88&26=96&30=99'