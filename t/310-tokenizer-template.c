/*
 * 310-tokenizer-template.c - the chat-template interpreter: every
 * conversation of every fixture in $FIXTURES/chat-templates/ rendered
 * byte for byte (or failing with the expected message), then small
 * templates for each construct, Python formatting, and hostile input.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "tokenizer/tokenizer.h"

/* Convert a jansson value into a template value. */
static struct tokenizer_tval *
conv(struct tokenizer_tvars *v, json_t *j)
{
	struct tokenizer_tval *r, *x;
	const char *k;
	json_t *e;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		r = tokenizer_tvars_dict(v);
		json_object_foreach(j, k, e) {
			x = conv(v, e);
			if (tokenizer_tvars_put(v, r, k, x) != 0)
				return NULL;
		}
		return r;
	case JSON_ARRAY:
		r = tokenizer_tvars_list(v);
		json_array_foreach(j, i, e)
			if (tokenizer_tvars_append(v, r, conv(v, e)) != 0)
				return NULL;
		return r;
	case JSON_STRING:
		return tokenizer_tvars_str(v, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return tokenizer_tvars_int(v, json_integer_value(j));
	case JSON_REAL:
		return tokenizer_tvars_float(v, json_real_value(j));
	case JSON_TRUE:
		return tokenizer_tvars_bool(v, 1);
	case JSON_FALSE:
		return tokenizer_tvars_bool(v, 0);
	default:
		return tokenizer_tvars_none(v);
	}
}

static time_t
fixed_now(void)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 10;
	tm.tm_mday = 22;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_fixture(const char *path, int *npass, int *ncase)
{
	struct tokenizer_template *t = NULL;
	struct tokenizer_template_opts o;
	json_error_t je;
	json_t *root, *cases, *c;
	struct err e;
	size_t i;
	const char *name;

	root = json_load_file(path, 0, &je);
	if (!ok(root != NULL, "%s parses", path)) {
		diag("%s", je.text);
		return;
	}
	name = json_string_value(json_object_get(root, "template_file"));
	err_clear(&e);
	if (!ok(tokenizer_template_compile(
	    json_string_value(json_object_get(root, "template")),
	    json_string_length(json_object_get(root, "template")), &t,
	    &e) == 0, "%s compiles", name)) {
		diag("%s", e.msg);
		json_decref(root);
		return;
	}
	memset(&o, 0, sizeof o);
	o.bos_token = json_string_value(json_object_get(root, "bos_token"));
	o.eos_token = json_string_value(json_object_get(root, "eos_token"));
	o.now = fixed_now();
	cases = json_object_get(root, "cases");
	json_array_foreach(cases, i, c) {
		struct tokenizer_tvars *v = tokenizer_tvars_new();
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *want = json_object_get(c, "expected");
		json_t *werr = json_object_get(c, "error");
		char *out = NULL;
		size_t len = 0;
		int rc;

		o.add_generation_prompt = json_is_true(json_object_get(c,
		    "add_generation_prompt"));
		tokenizer_tvars_set(v, "messages",
		    conv(v, json_object_get(c, "messages")));
		err_clear(&e);
		rc = tokenizer_template_render_vars(t, v, &o, &out, &len, &e);
		(*ncase)++;
		if (want != NULL) {
			int good = rc == 0 && len == json_string_length(want) &&
			    memcmp(out, json_string_value(want), len) == 0;

			if (!ok(good, "%s %s renders as expected", name, id)) {
				if (rc != 0)
					diag("error: %s", e.msg);
				else
					diag("got:\n%s\n# want:\n%s", out,
					    json_string_value(want));
			} else
				(*npass)++;
		} else {
			int good = rc == ERR_TEMPLATE && werr != NULL &&
			    strcmp(e.msg, json_string_value(werr)) == 0;

			if (!ok(good, "%s %s fails as expected", name, id))
				diag("rc %d, msg '%s'", rc, e.msg);
			else
				(*npass)++;
		}
		free(out);
		tokenizer_tvars_free(v);
	}
	tokenizer_template_free(t);
	json_decref(root);
}

static void
fixtures(void)
{
	const char *fx = tap_fixtures();
	char dir[4096];
	char *names[256];
	struct dirent *de;
	size_t n = 0, i, l;
	int npass = 0, ncase = 0;
	DIR *d;

	if (fx == NULL) {
		diag("no fixtures: skipping the fixture cases");
		return;
	}
	snprintf(dir, sizeof dir, "%s/chat-templates", fx);
	if ((d = opendir(dir)) == NULL) {
		diag("no %s: skipping the fixture cases", dir);
		return;
	}
	while ((de = readdir(d)) != NULL && n < 256) {
		l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_name);
	for (i = 0; i < n; i++) {
		run_fixture(tap_path("%s/%s", dir, names[i]), &npass, &ncase);
		free(names[i]);
	}
	ok(n > 0, "found %zu fixture templates", n);
	diag("fixture cases: %d of %d pass", npass, ncase);
}

/* Render src with messages_json (may be NULL) and extra JSON vars. */
static int
render(const char *src, const char *vars_json, char **out, struct err *e)
{
	struct tokenizer_template *t;
	struct tokenizer_template_opts o;
	struct tokenizer_tvars *v;
	json_t *j;
	const char *k;
	json_t *x;
	size_t len;
	int rc;

	*out = NULL;
	err_clear(e);
	if ((rc = tokenizer_template_compile(src, strlen(src), &t, e)) != 0)
		return rc;
	v = tokenizer_tvars_new();
	if (vars_json != NULL) {
		j = json_loads(vars_json, 0, NULL);
		json_object_foreach(j, k, x)
			tokenizer_tvars_set(v, k, conv(v, x));
		json_decref(j);
	}
	memset(&o, 0, sizeof o);
	o.bos_token = "<s>";
	o.eos_token = "</s>";
	o.max_output = 1 << 20;
	o.now = fixed_now();
	rc = tokenizer_template_render_vars(t, v, &o, out, &len, e);
	tokenizer_tvars_free(v);
	tokenizer_template_free(t);
	return rc;
}

/* A one-line test name for a template. */
static const char *
name_of(const char *src)
{
	static char buf[96];
	size_t i, n = 0;

	for (i = 0; src[i] != '\0' && n < sizeof buf - 4; i++) {
		if (src[i] == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else
			buf[n++] = src[i];
	}
	buf[n] = '\0';
	return buf;
}

static void
is_render(const char *src, const char *vars, const char *want)
{
	struct err e;
	char *out;
	int rc = render(src, vars, &out, &e);

	if (rc != 0) {
		ok(0, "render %s", name_of(src));
		diag("  error: %s", e.msg);
		return;
	}
	if (!ok(strcmp(out, want) == 0, "render %s", name_of(src))) {
		diag("  got  '%s'", name_of(out));
		diag("  want '%s'", name_of(want));
	}
	free(out);
}

/* Expect an error whose message contains frag. */
static void
is_error(const char *src, const char *vars, const char *frag)
{
	struct err e;
	char *out;
	int rc = render(src, vars, &out, &e);

	if (!ok(rc == ERR_TEMPLATE && strstr(e.msg, frag) != NULL,
	    "error for %s", name_of(src)))
		diag("  rc %d msg '%s' out '%s', want '%s'", rc, e.msg,
		    out ? out : "", frag);
	free(out);
}

static void
units(void)
{
	static char deep[3200];
	size_t i, n;

	/* whitespace control */
	is_render("a\n  {% if true %}\n  b\n  {% endif %}\nc", NULL,
	    "a\n  b\nc");
	is_render("a  {%- if true -%}  b  {%- endif %}", NULL, "ab");
	is_render("x {{- ' y ' -}} z", NULL, "x y z");
	is_render("{# c #}\n{#- d -#}  x", NULL, "x");
	is_render("  {%+ if true %}k{% endif %}", NULL, "  k");
	is_render("{% raw %}{{ x }}{% endraw %}", NULL, "{{ x }}");
	is_render("{% raw %}\n a\n\t{% endraw %}\nb", NULL, "\n a\nb");
	is_render("{%- raw -%}  a  {%- endraw -%}  b", NULL, "ab");
	is_render("a {{ 1 }}\n  {{ 2 }}", NULL, "a 1\n  2");
	/* literals and printing */
	is_render("{{ 1.0 }} {{ 2.5e-7 }} {{ 1e16 }} {{ 3 / 2 }} {{ 7 // 2 }}"
	    " {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}", NULL,
	    "1.0 2.5e-07 1e+16 1.5 3 -4 2 1024");
	is_render("{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v'} }} "
	    "{{ (1,) }}", NULL, "[1, 'a', None, True, 1.5] {'k': 'v'} (1,)");
	is_render("{{ 'a\\tb\\u00e9\\n' }}|{{ \"it's\" ~ 'x' }}", NULL,
	    "a\tb\xc3\xa9\n|it'sx");
	is_render("{{ ['it\\'s'] }}", NULL, "[\"it's\"]");
	is_render("{{ ['a\\xa0\\u200b\\x01 é'] }}", NULL,
	    "['a\\xa0\\u200b\\x01 é']");
	/* tojson */
	is_render("{{ {'a': [1, 2.0, 'é\"\\n'], 'b': none} | tojson }}", NULL,
	    "{\"a\": [1, 2.0, \"é\\\"\\n\"], \"b\": null}");
	is_render("{{ {'a': [1, {}], 'b': []} | tojson(indent=2) }}", NULL,
	    "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
	is_render("{{ 'é🤖' | tojson(ensure_ascii=true) }}", NULL,
	    "\"\\u00e9\\ud83e\\udd16\"");
	is_render("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true, "
	    "separators=(',', ':')) }}", NULL, "{\"a\":2,\"b\":1}");
	is_error("{{ x | tojson }}", NULL, "not JSON serializable");
	/* undefined */
	is_render("[{{ x }}]{{ x is defined }}{{ x | length }}"
	    "{{ 'a' in x }}{% for i in x %}no{% endfor %}", NULL,
	    "[]False0False");
	is_error("{{ x.y }}", NULL, "'x' is undefined");
	is_error("{{ x + 1 }}", NULL, "'x' is undefined");
	is_render("{{ d.missing is defined }}|{{ d.missing }}|{{ none.x }}",
	    "{\"d\": {}}", "False||");
	/* for loops */
	is_render("{% for x in 'abc' %}{{ loop.index }}{{ x }}"
	    "{{ '|' if not loop.last }}{% endfor %}", NULL, "1a|2b|3c");
	is_render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
	    "{\"d\": {\"z\": 1, \"a\": 2}}", "z=1;a=2;");
	is_render("{% for x in [1,2,3,4] if x is even %}{{ x }}"
	    "{{ loop.length }}{% else %}none{% endfor %}", NULL, "2242");
	is_render("{% for x in [] %}x{% else %}empty{% endfor %}", NULL,
	    "empty");
	is_render("{% for x in range(10) %}{% if x == 2 %}{% continue %}"
	    "{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}"
	    "{% endfor %}", NULL, "013");
	is_render("{% for x in [1,2,3] %}{{ loop.previtem is defined }}"
	    "{{ loop.nextitem | default('-') }}{{ loop.cycle('a','b') }} "
	    "{% endfor %}", NULL, "False2a True3b True-a ");
	is_render("{% for x in [1,2] %}{{ loop.revindex }}{{ loop.revindex0 }}"
	    "{{ loop.first }}{% endfor %}", NULL, "21True10False");
	/* scoping: set in a loop does not leak; namespace does */
	is_render("{% set a = 1 %}{% set ns = namespace(b=1) %}"
	    "{% for i in [1,2] %}{% set a = a + i %}{% set ns.b = ns.b + i %}"
	    "{% endfor %}{{ a }} {{ ns.b }}", NULL, "1 4");
	is_render("{% if true %}{% set a = 5 %}{% endif %}{{ a }}", NULL, "5");
	/* macros */
	is_render("{% macro m(a, b='B', c=none) -%}[{{ a }}{{ b }}{{ c }}]"
	    "{%- endmacro %}{{ m(1) }}{{ m(1, c=3) }}{{ m('x', 'y') }}",
	    NULL, "[1BNone][1B3][xyNone]");
	is_render("{% set g = 'G' %}{% macro f(n) %}{% if n > 0 %}{{ g }}"
	    "{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", NULL, "GGG");
	is_render("{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}"
	    "{% endmacro %}{{ m(1, 2, 3, x=4) }}", NULL, "1(2, 3){'x': 4}");
	is_error("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", NULL,
	    "takes not more than 1 argument");
	/* block set, filter block, generation */
	is_render("{% set x %}  hi {{ 1 }}{% endset %}[{{ x }}]", NULL,
	    "[  hi 1]");
	is_render("{% filter upper %}abc{% endfilter %}", NULL, "ABC");
	is_render("{% generation %}g{% endgeneration %}", NULL, "g");
	is_render("{% with a = 2 %}{{ a }}{% endwith %}{{ a is defined }}",
	    NULL, "2False");
	/* expressions */
	is_render("{{ 'a' if false }}|{{ 'b' if 0 else 'c' }}|"
	    "{{ 1 < 2 < 3 }}{{ 3 in [1,3] }}{{ 'x' not in 'abc' }}"
	    "|{{ none or 'd' }}{{ 0 and 1 }}{{ not '' }}", NULL,
	    "|c|TrueTrueTrue|d0True");
	/* every test, true and false */
	is_render("{{ x is defined }}{{ x is undefined }}{{ none is none }}"
	    "{{ 'a' is string }}{{ {} is mapping }}{{ 'a' is iterable }}"
	    "{{ 1 is iterable }}{{ [1] is sequence }}"
	    "{{ [1]|select is sequence }}{{ true is number }}"
	    "{{ 1 is integer }}{{ 1.0 is float }}{{ 1 is boolean }}"
	    "{{ true is true }}{{ 1 is true }}{{ false is false }}"
	    "{{ range is callable }}{{ 1 is callable }}", NULL,
	    "FalseTrueTrueTrueTrueTrueFalseTrueFalseTrueTrueTrueFalse"
	    "TrueFalseTrueTrueFalse");
	is_render("{{ 1 is eq 1 }}{{ 1 is ne 1 }}{{ 1 is lt 2 }}"
	    "{{ 2 is le 2 }}{{ 1 is gt 2 }}{{ 2 is ge 3 }}{{ 3 is odd }}"
	    "{{ 3 is even }}{{ 'ab' is lower }}{{ 'aB' is upper }}"
	    "{{ 'x'|safe is escaped }}{{ 'x' is escaped }}"
	    "{{ [1, 2, 3]|select('odd')|list }}"
	    "{{ [1, 2, 3]|reject('lt', 2)|list }}", NULL,
	    "TrueFalseTrueTrueFalseFalseTrueFalseTrueFalseTrueFalse"
	    "[1, 3][2, 3]");
	/* precedence and left associativity of the binary operators */
	is_render("{{ 2 ** 3 ** 2 }}|{{ 1 + 2 * 3 - 4 }}|{{ 10 - 4 - 3 }}|"
	    "{{ 'a' ~ 2 * 3 ~ 'b' }}|{{ 7 // 2 * 3 % 4 }}|"
	    "{{ not 1 == 2 and 0 or 3 }}|{{ 1 or 0 and 0 }}|"
	    "{{ -2 ** 2 }}", NULL, "64|3|3|a6b|1|3|1|4");
	is_render("{{ 'hello'[1:] }} {{ 'hello'[::-1] }} {{ [1,2,3][:-1] }} "
	    "{{ 'héllo'[1:3] }} {{ [1,2,3][-1] }} {{ 'abc'[5] }}", NULL,
	    "ello olleh [1, 2] él 3 ");
	is_render("{{ 'ab' * 3 }}{{ [0] * 2 }}{{ 1 + 2.5 }}{{ 'a' + 'b' }}"
	    "{{ [1] + [2] }}", NULL, "ababab[0, 0]3.5ab[1, 2]");
	is_error("{{ 'a' + 1 }}", NULL, "can only concatenate str");
	is_error("{{ 1 / 0 }}", NULL, "division by zero");
	is_error("{{ 1 < 'a' }}", NULL, "not supported between");
	/* filters */
	is_render("{{ '  x  ' | trim }}|{{ 'aXb' | lower }}{{ 'ab' | upper }}"
	    "|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|"
	    "{{ [3,1,2] | sort | join(',') }}|{{ [1,2,3] | length }}|"
	    "{{ [1,2,3] | first }}{{ [1,2,3] | last }}|{{ 'a-b' | replace('-',"
	    " '+') }}|{{ '12' | int + 1 }}|{{ 'x' | int }}|{{ 3 | float }}|"
	    "{{ -3 | abs }}|{{ 2.567 | round(2) }}|"
	    "{{ [1,1,2] | unique | list }}"
	    "|{{ [1,2] | reverse | list }}|{{ 'a b  c' | wordcount }}", NULL,
	    "x|axbAB|Hello World|Hello|1,2,3|3|13|a+b|13|0|3.0|3|2.57|[1, 2]|"
	    "[2, 1]|3");
	is_render("{{ x | default('d') }}{{ '' | default('e', true) }}"
	    "{{ 0 | default('f') }}", NULL, "de0");
	is_render("{{ ms | selectattr('role', 'equalto', 'user') | "
	    "map(attribute='c') | join(' ') }}|{{ ms | rejectattr('role', "
	    "'eq', 'user') | list | length }}|{{ [1,2,3,4] | select('odd') "
	    "| list }}|{{ ['a','b'] | reject('equalto', 'a') | list }}|"
	    "{{ ms | map(attribute='nope', default='-') | join }}",
	    "{\"ms\": [{\"role\": \"user\", \"c\": \"u1\"}, {\"role\": \"a\","
	    " \"c\": \"a1\"}, {\"role\": \"user\", \"c\": \"u2\"}]}",
	    "u1 u2|1|[1, 3]|['b']|---");
	is_render("{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'a': 1} | items | "
	    "list }}|{{ 'ab\\ncd' | indent(2) }}|{{ 'ab\\ncd' | indent(2, "
	    "true) }}|{{ [1,2,3] | batch(2) | list }}|{{ 'x' | center(5) }}|"
	    "{{ [1,2] | sum }}{{ [3,1] | min }}{{ [3,1] | max }}|"
	    "{{ '<a>' | e }}|{{ ('<' | safe) + '>' }}", NULL,
	    "[('a', 2), ('b', 1)]|[('a', 1)]|ab\n  cd|  ab\n  cd|"
	    "[[1, 2], [3]]|  x  |313|&lt;a&gt;|<&gt;");
	is_render("{{ ['a', 1] | map('string') | join('') }}{{ 2 | string }}"
	    "{{ 'ab' | list }}", NULL, "a12['a', 'b']");
	/* tests */
	is_render("{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}"
	    "{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}"
	    "{{ true is boolean }}{{ none is none }}{{ false is false }}"
	    "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}"
	    "{{ 'a' is in 'abc' }}{{ 1 is not string }}{{ x is undefined }}"
	    "{{ 'a' is eq('a') }}{{ [] is sequence }}", NULL,
	    "TrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrue"
	    "TrueTrue");
	/* methods */
	is_render("{{ ' a b '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|"
	    "{{ 'xxaxx'.rstrip('x') }}|{{ 'a,b,,c'.split(',') }}|"
	    "{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|"
	    "{{ 'a b c'.rsplit(' ', 1) }}|{{ 'abc'.startswith('ab') }}"
	    "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'abcb'.find('b') }}"
	    "{{ 'abcb'.rfind('b') }}{{ 'abcb'.count('b') }}|"
	    "{{ '-'.join(['a', 'b']) }}|{{ '{} {x}'.format(1, x=2) }}|"
	    "{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'ÉCOLE'.lower() }}",
	    NULL, "a b|axx|xxa|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|"
	    "['a b', 'c']|TrueTrue|132|a-b|1 2|ABab|école");
	is_render("{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.get('z') }}"
	    "{{ d.keys() | list }}{{ d.values() | list }}{{ d['a'] }}"
	    "{{ d.a }}", "{\"d\": {\"a\": 1}}", "1dfltNone['a'][1]11");
	is_error("{% set l = [] %}{{ l.append(1) }}", NULL, "unsafe");
	/* globals */
	is_render("{{ range(3) | list }}{{ range(1, 7, 2) | list }}"
	    "{{ strftime_now('%Y-%m-%d') }}{{ dict(a=1) }}", NULL,
	    "[0, 1, 2][1, 3, 5]2026-11-22{'a': 1}");
	is_error("{{ raise_exception('boom') }}", NULL, "boom");
	is_render("{% set j = joiner(', ') %}{% for x in [1,2,3] %}{{ j() }}"
	    "{{ x }}{% endfor %}|{% set c = cycler('a', 'b') %}{{ c.next() }}"
	    "{{ c.next() }}{{ c.current }}", NULL, "1, 2, 3|aba");
	is_render("{{ '%s=%05.1f %d%%' % ('x', 2.25, 7) }}|{{ '%(k)s' % "
	    "{'k': 1} }}|{{ '%s and %s' | format('a', 'b') }}|"
	    "{{ 'hello world foo' | truncate(9) }}", NULL,
	    "x=002.2 7%|1|a and b|hello...");
	is_render("x\r\n{% if true %}\r\ny\r\n{% endif %}\r\n", NULL,
	    "x\ny\n");
	is_render("{{ {'a': {'b': 1}} }}", NULL, "{'a': {'b': 1}}");
	/* select/map/... return generators: true even when empty, no len */
	is_render("{{ 'y' if [1] | select('none') else 'n' }}|{{ [1, 2] | "
	    "map('string') | join }}|{{ [3] | select is sequence }}", NULL,
	    "y|12|False");
	is_error("{{ [1] | select | length }}", NULL, "has no len()");
	/* errors: syntax, unsupported, hostile */
	is_error("{% if x %}no end", NULL, "line 1");
	is_error("{% if x %}no end", NULL, "endif");
	is_error("a\n{{ x ", NULL, "line 2");
	is_error("{{ x | nosuchfilter }}", NULL, "no filter named "
	    "'nosuchfilter'");
	is_error("{{ x is nosuchtest }}", NULL, "no test named");
	is_error("{% include 'x' %}", NULL, "unsupported construct");
	is_render("{% macro each(l) %}{% for x in l %}[{{ caller(x) }}]"
	    "{% endfor %}{% endmacro %}{% set k = 'k' %}"
	    "{% call(v) each([1, 2]) %}"
	    "{{ k }}{{ v }}{% endcall %}", NULL, "[k1][k2]");
	is_error("{% frobnicate %}", NULL, "unknown tag 'frobnicate'");
	is_error("{% break %}", NULL, "outside of a loop");
	is_error("{% for x in y %}\n{% endif %}", NULL,
	    "line 2: unexpected '{% endif %}', expected '{% endfor %}'");
	is_error("{% endif %}", NULL, "no open block");
	is_error("{{ 'abc }}", NULL, "unterminated string");
	is_error("{# never closed", NULL, "unterminated comment");
	is_error("{% for x in %}{% endfor %}", NULL, "expected");
	is_error("{{ }}", NULL, "expected an expression");
	is_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", NULL,
	    "nested too deeply");
	is_error("{% for i in range(100000) %}{% for j in range(100000) %}"
	    "{% endfor %}{% endfor %}", NULL, "ran too long");
	is_error("{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}"
	    "{% endfor %}", NULL, "output is larger than");
	is_error("{% set ns = namespace(s='x') %}{% for i in range(40) %}"
	    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}", NULL, "larger than");
	is_error("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}"
	    "{% set ns.l = ns.l + ns.l %}{% endfor %}", NULL, "out of memory");
	is_error("{{ 'x' * 100000000 }}", NULL, "larger than");
	is_error("{{ range(100000000) }}", NULL, "too large");
	is_error("{% macro m(n) %}{{ 'x' * 300000 }}{% if n %}{{ m(n - 1) }}"
	    "{% endif %}{% endmacro %}{{ m(50) }}", NULL, "larger than");
	is_render("{{ ('a' * 300000 ~ 'b') in ('a' * 900000 ~ 'b') }}", NULL,
	    "True");
	n = 0;
	for (i = 0; i < 3000; i++)
		deep[n++] = '(';
	deep[n] = '\0';
	{
		char *src = malloc(sizeof deep + 16 + 10010);

		snprintf(src, sizeof deep + 16, "{{ %s }}", deep);
		is_error(src, NULL, "nested too deeply");

		for (i = 0, n = 0; i < 1000; i++) {
			memcpy(src + n, "{% if 1 %}", 10);
			n += 10;
		}
		src[n] = '\0';
		is_error(src, NULL, "too deeply");
		free(src);
	}
	{
		/* long flat chains: 1+1+..., x|trim|trim..., elif... */
		static const char *const pre[] = { "{{ ", "{{ 'a'", "{{ x",
		    "{% if 0 %}" };
		static const char *const unit[] = { "1+", "|trim", ".y",
		    "{% elif 0 %}" };
		static const char *const post[] = { "1 }}", " }}", " }}",
		    "{% endif %}" };
		size_t u, ul, cap = 200000;
		char *src = malloc(cap);

		for (u = 0; u < 4; u++) {
			ul = strlen(unit[u]);
			n = strlen(pre[u]);
			memcpy(src, pre[u], n);
			for (i = 0; i < 20000 && n + ul + 32 < cap; i++) {
				memcpy(src + n, unit[u], ul);
				n += ul;
			}
			snprintf(src + n, cap - n, "%s", post[u]);
			is_error(src, NULL, "too deeply");
		}
		free(src);
	}
	/* chains that legit templates use stay fine */
	is_render("{{ 1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1"
	    "+1+1+1 }}", NULL, "30");
	{
		struct tokenizer_chat_msg m[2] = {
			{ "user", "hi" }, { "assistant", "yo" }
		};
		struct tokenizer_template_opts o = { 0 };
		struct err e;
		char *out;
		size_t len;

		o.add_generation_prompt = 1;
		ok(tokenizer_template_render(tokenizer_template_builtin(
		    "chatml"), m, 2, &o, &out, &len, &e) == 0,
		    "chatml renders");
		is_str(out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>"
		    "assistant\nyo<|im_end|>\n<|im_start|>assistant\n",
		    "chatml output");
		free(out);
		m[1].content = "\xff";
		ok(tokenizer_template_render(tokenizer_template_builtin(
		    "chatml"), m, 2, &o, &out, &len, &e) == ERR_USAGE,
		    "invalid UTF-8 in a message is refused");
	}
}

int
main(void)
{
	fixtures();
	units();
	return tap_done();
}
