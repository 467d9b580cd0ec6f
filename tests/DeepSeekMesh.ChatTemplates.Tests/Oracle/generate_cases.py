"""Regenerates jinja_cases.json: each case's template rendered by the real Jinja2 configured the way
HuggingFace transformers configures it (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, tojson via json.dumps with ensure_ascii=False, raise_exception, strftime_now).
Run: python3 generate_cases.py  (needs jinja2>=3.1). The C# test replays the file."""
import json
from datetime import datetime
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime(2024, 7, 26, 13, 5, 9).strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]

CASES = [
    # whitespace: trim_blocks / lstrip_blocks / explicit control
    ("ws_if_lines", "{% if true %}\n  yes\n{% endif %}\nend", {}),
    ("ws_lstrip_indented_block", "a\n    {% if true %}b{% endif %}\nc", {}),
    ("ws_lstrip_not_for_vars", "a\n    {{ 'b' }}\nc", {}),
    ("ws_plus_disables_lstrip", "a\n  {%+ if true %}b{% endif %}", {}),
    ("ws_plus_disables_trim", "{% if true +%}\nb{% endif %}", {}),
    ("ws_minus_both", "a   \n {{- 'b' -}} \n  c", {}),
    ("ws_block_minus", "x\n\n{%- if true -%}\n\n  y  \n\n{%- endif -%}\n\nz", {}),
    ("ws_comment_line", "a\n  {# note #}\nb", {}),
    ("ws_comment_minus", "a  {#- note -#}  b", {}),
    ("ws_same_line_no_lstrip", "{% if true %}  {% endif %}x", {}),
    ("ws_after_trim_is_line_start", "{% if true %}\n  {% endif %}x", {}),
    ("ws_var_then_block", "{{ 'a' }}  {% if true %}b{% endif %}", {}),
    ("ws_trailing_newline_dropped", "hello\n", {}),
    ("ws_two_trailing_newlines", "hello\n\n", {}),
    ("ws_crlf", "a\r\nb\r\n{% if true %}\r\nc{% endif %}", {}),
    ("ws_for_lines", "<ul>\n{% for i in [1,2] %}\n  <li>{{ i }}</li>\n{% endfor %}\n</ul>", {}),
    ("ws_tabs_lstrip", "a\n\t\t{% if true %}\n\tb\n\t{% endif %}\nc", {}),
    ("ws_raw", "{% raw %}{{ x }} {% if %}{% endraw %}!", {}),
    ("ws_raw_minus", "a {%- raw -%}  {{ y }}  {%- endraw -%} b", {}),
    ("ws_set_block", "{% set x %}\n  inner\n{% endset %}[{{ x }}]", {}),
    ("ws_macro_def_lines", "{% macro m(a) %}\n<{{ a }}>\n{% endmacro %}\n{{ m(1) }}{{ m(2) }}", {}),
    # literals and operators
    ("lit_strings", "{{ 'a\\'b' }}|{{ \"q\\\"q\" }}|{{ 'tab\\tnl\\n' }}|{{ '\\u00e9\\x41' }}|{{ 'x' 'y' }}", {}),
    ("lit_numbers", "{{ 1 }} {{ 1.0 }} {{ 1.5e3 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 123456789.125 }} {{ 1_000 }}", {}),
    ("lit_consts", "{{ true }} {{ True }} {{ none }} {{ None }} {{ false }}", {}),
    ("lit_collections", "{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ (1,) }} {{ (1, 2) }} {{ () }}", {}),
    ("op_arith", "{{ 7 + 2 }} {{ 7 - 2 }} {{ 7 * 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }}", {}),
    ("op_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 2 ~ 3 * 2 }} {{ '1' + 2 ~ 3 }}", {}),
    ("err_concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("op_string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ [0] * 3 }} {{ 'n=' ~ 5 ~ none }}", {}),
    ("op_compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'a' }} {{ [1,2] == [1,2] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", {}),
    ("op_in", "{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 3 not in [1] }}", {}),
    ("op_logic", "{{ true and 'x' }}|{{ 0 or 'y' }}|{{ not 0 }}|{{ '' or none }}|{{ not x is defined }}|{{ 1 and 0 }}", {}),
    ("op_ternary", "{{ 'a' if true else 'b' }} {{ 'a' if false else 'b' }} {{ 'x' if false }}|{{ 1 if 0 else 2 if 1 else 3 }}", {}),
    ("op_filter_binds_tight", "{{ 'a' + 'bc' | upper + 'd' }} {{ -3 | abs }} {{ 'x' ~ [1,2] | length }}", {}),
    # variables, attributes, subscripts
    ("access_dict", "{{ m.role }} {{ m['content'] }} {{ m.get('role') }} {{ m.get('nope', 'dflt') }} {{ m.get('nope') }}", {"m": MSGS[1]}),
    ("access_list", "{{ xs[0] }} {{ xs[-1] }} {{ xs.1 }} {{ xs[5] is defined }} {{ s[1] }} {{ s[-1] }}", {"xs": [10, 20, 30], "s": "abc"}),
    ("access_nested", "{{ tools[0].function.name }} {{ tools[0]['function']['parameters']['required'][0] }}", {"tools": TOOLS}),
    ("slices", "{{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ s[::-1] }} {{ s[1:3] }} {{ xs[5:] }}", {"xs": [1, 2, 3, 4], "s": "hello"}),
    ("messages_slice_loop", "{% for m in messages[1:] %}{{ m.role }};{% endfor %}", {"messages": MSGS}),
    # if / for / loop
    ("if_elif_else", "{% for n in [1,2,3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {}),
    ("loop_prev_next", "{% for x in [1,2,3] %}{{ loop.previtem is defined }}-{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", {}),
    ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("loop_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}x{% else %}empty{% endfor %}", {}),
    ("loop_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}:{{ m.role }} {% endfor %}", {"messages": MSGS}),
    ("loop_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d | items %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop_unpack_pairs", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for (a, b) in [(5, 6)] %}{{ a * b }}{% endfor %}", {}),
    ("loop_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("loop_nested_loop_var", "{% for a in [1,2] %}{% for b in [1,2] %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope_no_leak", "{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("loop_if_scope_leaks", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    ("loop_changed", "{% for x in [1,1,2,2,3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", {}),
    ("loop_undefined_iter", "{% for x in nothing %}x{% else %}none{% endfor %}", {}),
    ("range_forms", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }}", {}),
    # set / namespace
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}", {}),
    ("namespace_mutation", "{% set ns = namespace(count=0, seen=[]) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }} {{ ns.seen }}", {}),
    ("namespace_flag_across_loop", "{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", {"messages": MSGS}),
    ("set_block_filter", "{% set x | upper %}abc{% endset %}{{ x }}", {}),
    # macros
    ("macro_defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet('Cy', punct='?') }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_sees_outer", "{% set who = 'world' %}{% macro hi() %}hi {{ who }}{% endmacro %}{{ hi() }}", {}),
    ("macro_missing_arg_undefined", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}),
    # filters
    ("f_case", "{{ 'hello world' | upper }} {{ 'HeLLo' | lower }} {{ 'hello big-world (x)' | title }} {{ 'hELLO wORLD' | capitalize }}", {}),
    ("f_trim", "[{{ '  a b  ' | trim }}] [{{ 'xxaxx' | trim('x') }}] [{{ '\\n a\\t' | trim }}]", {}),
    ("f_replace", "{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}", {}),
    ("f_length", "{{ 'abc' | length }} {{ [1,2] | count }} {{ {'a': 1} | length }} {{ nothing | length }} {{ '日本' | length }}", {}),
    ("f_join", "{{ [1, 2, 3] | join(', ') }} {{ ['a','b'] | join }} {{ messages | join('|', attribute='role') }}", {"messages": MSGS}),
    ("f_default", "{{ nothing | default('d') }} {{ none | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ 0 | d('z', boolean=true) }} {{ 'v' | d('x') }}", {}),
    ("f_first_last", "{{ [1,2,3] | first }} {{ [1,2,3] | last }} {{ 'abc' | first }} {{ [] | first }}|{{ 'abc' | last }}", {}),
    ("f_list_string", "{{ 'ab' | list }} {{ {'a': 1} | list }} {{ 12 | string }} {{ none | string }} {{ [1, 'x'] | string }}", {}),
    ("f_int_float", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }} {{ '2.5' | float }} {{ 3 | float }} {{ 'nan?' | float }} {{ true | int }}", {}),
    ("f_abs_round", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 7 | round }}", {}),
    ("f_tojson_basic", "{{ {'a': 1, 'b': [true, none, 1.5], 'c': 'é\"\\n'} | tojson }}", {}),
    ("f_tojson_indent", "{{ tools | tojson(indent=4) }}", {"tools": TOOLS}),
    ("f_tojson_options", "{{ {'b': 1, 'a': {'d': 2, 'c': []}} | tojson(sort_keys=true) }} {{ {'x': [1, 2]} | tojson(separators=(',', ':')) }} {{ 'é' | tojson(ensure_ascii=true) }} {{ {} | tojson(indent=2) }} {{ [] | tojson }}", {}),
    ("f_tojson_indent_string", "{{ {'a': [1]} | tojson(indent='\\t') }}", {}),
    ("f_items_keys_values", "{{ d | items | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}", {"d": {"x": 1, "y": "z"}}),
    ("f_selectattr", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }} {{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | list }}", {"messages": MSGS}),
    ("f_selectattr_truthy", "{{ xs | selectattr('tool_calls') | list | length }} {{ xs | rejectattr('tool_calls') | list | length }}", {"xs": [{"tool_calls": [1]}, {"tool_calls": []}, {"a": 1}]}),
    ("f_select_reject", "{{ range(10) | select('odd') | list }} {{ range(10) | reject('divisibleby', 3) | list }} {{ [0, 1, '', 'a', none] | select | list }}", {}),
    ("f_map", "{{ ['a', 'b'] | map('upper') | list }} {{ messages | map(attribute='role') | unique | list }} {{ [{'a': 1}, {}] | map(attribute='a', default=9) | list }} {{ ['1', '2'] | map('int') | sum }}", {"messages": MSGS}),
    ("f_unique_reverse_sort", "{{ ['b', 'A', 'a', 'c'] | unique | list }} {{ [3, 1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }}", {}),
    ("f_sort_attribute", "{{ xs | sort(attribute='n') | map(attribute='id') | join }}", {"xs": [{"n": 2, "id": "b"}, {"n": 1, "id": "a"}, {"n": 2, "id": "c"}]}),
    ("f_dictsort", "{{ {'b': 1, 'a': 2, 'C': 0} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) }}", {}),
    ("f_indent", "[{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb\\n' | indent(2, blank=true) }}] [{{ 'x\\ny' | indent('--') }}]", {}),
    ("f_misc", "{{ 'a b  c' | wordcount }} [{{ 'ab' | center(6) }}] [{{ 'abc' | center(6) }}] {{ '<a href=\"x\">&\\'' | e }} {{ '<b>' | safe }} {{ [1,2,3,4,5] | batch(2) | list }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ [1, 2] | sum(start=10) }}", {}),
    ("f_format", "{{ '%s is %d years, %.2f%%' | format('Ann', 30, 12.345) }} {{ '%-5s|%5s|%03d' | format('a', 'b', 7) }} {{ 'x=%s' % 5 }} {{ '%s-%s' % (1, 2) }}", {}),
    ("f_truncate", "{{ 'The quick brown fox jumps over the lazy dog' | truncate(20) }} {{ 'short' | truncate(20) }} {{ 'abcdefghijklmnopqrstuvwxyz' | truncate(10, true) }}", {}),
    ("f_filter_block", "{% filter upper %}hello {{ 'x' }}{% endfilter %}", {}),
    # tests
    ("t_defined", "{{ x is defined }} {{ nothing is defined }} {{ nothing is undefined }} {{ m.nope is defined }} {{ m.role is defined }}", {"x": 1, "m": MSGS[0]}),
    ("t_none", "{{ none is none }} {{ x is none }} {{ x is not none }} {{ nothing is none }}", {"x": None}),
    ("t_types", "{{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ range is callable }} {{ nothing is iterable }}", {}),
    ("t_bool_tests", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}", {}),
    ("t_numeric", "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 5 is not even }}", {}),
    ("t_compare", "{{ 1 is eq 1 }} {{ 'a' is equalto 'a' }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 1 is ne 2 }} {{ 2 is in [1, 2] }} {{ 'x' is in 'xyz' }} {{ none is sameas none }} {{ 'A' is upper }} {{ 'a' is lower }}", {}),
    ("t_not_and", "{{ not x is defined and y is defined }} {{ x is not defined or y is not none }}", {"y": 1}),
    # string methods
    ("m_strip", "[{{ '  a  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '  a  '.lstrip() }}] [{{ '  a  '.rstrip() }}] [{{ 'ab\\n'.rstrip('\\n') }}]", {}),
    ("m_starts_ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('x') }}", {}),
    ("m_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'a b c'.rsplit(None, 1) }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }}", {}),
    ("m_case_replace", "{{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'hello world'.title() }} {{ \"they're\".title() }} {{ 'aXb'.replace('X', '-') }} {{ 'hi'.capitalize() }}", {}),
    ("m_find_count", "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }}", {}),
    ("m_format", "{{ '{} + {} = {}'.format(1, 2, 3) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ '{{literal}}'.format() }} {{ '{:>5}|{:<4}|{:^5}'.format('a', 'b', 'c') }}", {}),
    ("m_predicates", "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ ' '.isspace() }} {{ 'ab'.islower() }} {{ 'AB'.isupper() }} {{ 'a1'.isalnum() }}", {}),
    # globals
    ("g_dict", "{{ dict(a=1, b='x') }} {{ dict({'z': 1}, y=2) }} {{ dict([('k', 'v')]) }}", {}),
    ("g_strftime", "{{ strftime_now('%Y-%m-%d %H:%M:%S') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %B %-d %I%p %j') }}", {}),
    # undefined
    ("u_render_empty", "[{{ nothing }}] [{{ m.nope }}] [{{ nothing ~ 'x' }}] [{{ nothing | upper }}] [{{ nothing | join(',') }}]", {"m": {}}),
    ("u_falsy", "{% if nothing %}yes{% else %}no{% endif %} {{ not nothing }} {{ nothing == nothing }} {{ nothing == none }} {{ 'x' in nothing }}", {}),
    # realistic snippets
    ("real_system_split", "{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] %}{% set rest = messages[1:] %}{% else %}{% set sys = '' %}{% set rest = messages %}{% endif %}[{{ sys }}]{% for m in rest %}<{{ m['role'] }}>{{ m['content'] | trim }}{% endfor %}", {"messages": MSGS}),
    ("real_alternation_check", "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{{ message['content'] }}{% endfor %}", {"messages": MSGS[1:]}),
    ("real_gemma_like", "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}", {"messages": MSGS[1:], "bos_token": "<bos>", "add_generation_prompt": True}),
    ("real_mistral_like", "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}", {"messages": MSGS[1:], "bos_token": "<s>", "eos_token": "</s>"}),
    ("real_phi_like", "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}", {"messages": MSGS, "add_generation_prompt": True, "eos_token": "<|endoftext|>"}),
    ("real_think_split", "{% set content = m.content %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1].lstrip('\\n') %}{% endif %}[{{ content }}]", {"m": {"content": "<think>\nreasoning\n</think>\n\nAnswer."}}),
    # second batch: edge cases
    ("e_hf_indented_style", "{%- for message in messages %}\n    {%- if message.role == 'user' %}\n        {{- '<u>' + message.content }}\n    {%- else %}\n        {{- '<o>' + message.content }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<a>' }}\n{%- endif %}\n", {"messages": MSGS, "add_generation_prompt": True}),
    ("e_multiline_for", "{% for x in xs %}\n{{ x }}\n{% endfor %}\ndone", {"xs": [1, 2]}),
    ("e_text_before_block_same_line", "ab {% if true %}x{% endif %} cd\n  {% if true %}y{% endif %}", {}),
    ("e_set_minus_everywhere", "a\n{%- set x = 1 -%}\n  b {{ x }}\n  {%- set y = 2 %}\nc{{ y }}", {}),
    ("e_unicode", "{{ s | length }} {{ s[::-1] }} {{ s[0] }} {{ s | reverse }} {{ s | upper }} {{ s | tojson }}", {"s": "h\u00e9\U0001F600!"}),
    ("e_repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'nl\\n'] }}", {}),
    ("e_tojson_values", "{{ [1e20, -0.0, 10**15, 0.1, 'ctl\\u0001\\u007f', {'n': none}, 1.0] | tojson }} {{ {1: 'a', true: 'b'} | tojson }}", {}),
    ("e_string_escapes", "{{ 'a\\\\b' }}|{{ 'q\\d' }}|{{ \"\\'\" }}", {}),
    ("e_division_forms", "{{ 10 / 4 }} {{ 10 / 5 }} {{ 7 // 2.0 }} {{ -7 % 2.5 }} {{ 2 ** 0.5 }} {{ 10 ** 15 }} {{ 1e16 }} {{ 123456789012345678.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1e15 }} {{ 100.0 }}", {}),
    ("e_format_rounding", "{{ '%.1f' | format(2.25) }} {{ '%.2f' | format(1.005) }} {{ '%5.1f|' | format(3.14159) }} {{ 2.675 | round(2) }} {{ 0.5 | round }} {{ 1.5 | round }} {{ -0.5 | round }} {{ 0.125 | round(2) }} {{ 0.375 | round(2) }} {{ 2.5 | round }} {{ 25 | round(-1) }} {{ 25.0 | round(-1) }} {{ 1234.5678 | round(-2) }}", {}),
    ("e_int_whitespace", "{{ '  12  ' | int }} {{ '-3' | int }} {{ '1e3' | int }} {{ '' | int }} {{ none | int }}", {}),
    ("e_short_circuit", "{{ false and raise_exception('no') }} {{ true or raise_exception('no') }} {{ 1 if none else 2 }}", {}),
    ("e_repeat_edge", "[{{ 'x' * 0 }}] [{{ -1 * 'ab' }}] {{ [1] * 2 }}", {}),
    ("e_namespace_forms", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c is defined }}", {}),
    ("e_last_message", "{{ (messages | last).content }} {{ messages[-1]['role'] }} {{ messages | length > 1 }}", {"messages": MSGS}),
    ("e_if_not_defined_set", "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ add_generation_prompt }}", {}),
    ("e_cond_and", "{{ 'a' if x is defined and x else 'b' }} {{ 'a' if y is defined and y else 'b' }}", {"x": 1, "y": 0}),
    ("e_for_items_filter", "{% for k, v in d.items() if v %}{{ k }}{% endfor %} {% for k, v in d | dictsort %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 0, "c": 2}}),
    ("e_map_join", "{{ [1, 2] | map('string') | join('-') }} {{ 'Hello' | list | reverse | join }} {{ [1, 2, 3][1:] | join(',') }}", {}),
    ("e_indent_first", "{{ 'a\\nb' | indent(4, first=true) }}|{{ 'a\\nb' | indent(width=1) }}", {}),
    ("e_truthiness", "{{ 'y' if {} else 'n' }}{{ 'y' if [0] else 'n' }}{{ 'y' if 0.0 else 'n' }}{{ 'y' if ' ' else 'n' }}{{ 'y' if none else 'n' }}", {}),
    ("e_none_concat", "{{ none ~ '' }}|{{ 3 | string + 'x' }}|{{ true ~ 1 }}", {}),
    ("e_trailing_commas", "{{ [1, 2,] }} {{ {'a': 1,} }} {{ dict(a=1,) }}", {}),
    ("e_loop_filter_revindex", "{% for x in range(6) if x is even %}{{ x }}:{{ loop.revindex }}:{{ loop.last }} {% endfor %}", {}),
    ("e_nested_ns_in_macro", "{% macro count(xs) %}{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}{% endmacro %}{{ count([1, 2, 3]) }}", {}),
    ("e_macro_kw_first", "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(a=1) }} {{ m(b=5, a=4) }}", {}),
    ("e_comment_inline", "a{# c1 #}b {#- c2 -#} c\n{# c3 #}d", {}),
    ("e_str_methods_chain", "{{ '  Hello World  '.strip().lower().replace('world', 'there').split(' ') }}", {}),
    ("e_dict_in_loop_get", "{% for m in messages %}{{ m.get('name', m.role) }};{% endfor %}", {"messages": [{"role": "tool", "name": "calc"}, {"role": "user"}]}),
    ("e_content_list_parts", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for part in m.content %}{% if part.type == 'text' %}{{ part.text }}{% elif part.type == 'image' %}<img>{% endif %}{% endfor %}{% endif %}|{% endfor %}", {"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}, {"role": "assistant", "content": "A cat."}]}),
    ("e_tools_json_lines", "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}", {"tools": TOOLS}),
    ("e_whitespace_only_text", "{% for i in range(2) %}   \n{% endfor %}|", {}),
    ("e_lstrip_after_var_newline", "{{ 'a' }}\n    {% if true %}b{% endif %}", {}),
    ("e_block_at_eof_whitespace", "x\n  {% if false %}y{% endif %}  ", {}),
    ("e_default_chain", "{{ m.missing | default(m.other | default('z')) }}", {"m": {}}),
    ("e_in_dict_keys", "{{ 'tool_calls' in m }} {{ 'role' in m }} {{ 'x' not in m.keys() | list }}", {"m": {"role": "user"}}),
    ("err_undefined_attr_of_undefined_call", "{{ nothing() }}", {}),
    ("err_str_join_non_str", "{{ ', '.join([1, 2]) }}", {}),
    ("err_dict_update", "{% set d = {} %}{{ d.update({'a': 1}) }}", {}),
    # errors (the C# side must throw TemplateException)
    ("err_raise", "{{ raise_exception('custom failure') }}", {}),
    ("err_add_str_int", "{{ 'a' + 1 }}", {}),
    ("err_undefined_arith", "{{ nothing + 1 }}", {}),
    ("err_unknown_filter", "{{ 'a' | frobnicate }}", {}),
    ("err_unknown_test", "{{ 'a' is frobnicated }}", {}),
    ("err_call_non_callable", "{{ 'a'() }}", {}),
    ("err_list_append", "{% set xs = [] %}{{ xs.append(1) }}", {}),
    ("err_div_zero", "{{ 1 / 0 }}", {}),
    ("err_unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("err_tojson_undefined", "{{ nothing | tojson }}", {}),
    ("err_none_iter", "{% for x in none %}{% endfor %}", {}),
    ("err_compare_types", "{{ 1 < 'a' }}", {}),
]


def main():
    out = []
    for name, template, variables in CASES:
        case = {"name": name, "template": template, "vars": variables}
        try:
            case["expected"] = env.from_string(template).render(**variables)
        except jinja2.exceptions.TemplateAssertionError as e:  # e.g. unknown filter/test: compile-time in Jinja
            case["error"] = f"{type(e).__name__}: {e}"
        except jinja2.exceptions.TemplateSyntaxError as e:
            raise SystemExit(f"{name}: syntax error in case: {e}")
        except Exception as e:  # noqa: BLE001 - any runtime failure is an expected error case
            case["error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    with open("jinja_cases.json", "w", encoding="utf-8") as f:
        json.dump({"generator": f"jinja2 {jinja2.__version__}, HF-style ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)",
                   "cases": out}, f, ensure_ascii=False, indent=1)
    print(len(out), "cases;", sum(1 for c in out if "error" in c), "errors")


if __name__ == "__main__":
    main()
