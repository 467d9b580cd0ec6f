using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

/// <summary>Literals, operators, "is" tests, string/dict methods, slicing, macros.</summary>
public class ExpressionTests
{
    [Theory]
    [InlineData("{{ 'a\\tb\\n' }}|{{ \"it's\" }}|{{ '\\u00e9' }}", "a\tb\n|it's|é")]
    [InlineData("{{ 1 }} {{ 1.0 }} {{ 2.5e3 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }}", "1 1.0 2500.0 1e+20 1e-05 0.30000000000000004")]
    [InlineData("{{ true }} {{ False }} {{ none }} {{ None }}", "True False None None")]
    [InlineData("{{ [1, 'a', none] }} {{ {'k': [true]} }} {{ (1,) }} {{ (1, 2) }}", "[1, 'a', None] {'k': [True]} (1,) (1, 2)")]
    [InlineData("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 8 }} {{ 'ab' * 2 }} {{ 1 ~ 'x' ~ none }}", "3.5 3 -4 2 256 abab 1xNone")]
    [InlineData("{{ 1 + 2 * 3 }} {{ 2 ~ 3 * 2 }} {{ 'a' + 'bc' | upper }}", "7 26 aBC")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'b' > 'a' }} {{ [1, 2] == [1, 2] }} {{ 'a' != 'a' }}", "True True True True False")]
    [InlineData("{{ 'at' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 0} }} {{ 3 not in [3] }}", "True True True False")]
    [InlineData("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not 0 }} {{ 'a' if false else 'b' }} [{{ 'a' if false }}]", "x y True b []")]
    public void LiteralsAndOperators(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ x is defined }} {{ missing is defined }} {{ missing is undefined }}", "True False True")]
    [InlineData("{{ n is none }} {{ n is not none }} {{ x is none }}", "True False False")]
    [InlineData("{{ 'a' is string }} {{ x is number }} {{ 1.5 is number }} {{ d is mapping }} {{ l is iterable }} {{ l is sequence }} {{ true is boolean }}", "True True True True True True True")]
    [InlineData("{{ true is true }} {{ 1 is true }} {{ false is false }}", "True False True")]
    [InlineData("{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}", "True True True False")]
    [InlineData("{{ 'a' is equalto 'a' }} {{ 1 is eq 2 }} {{ not missing is defined and x is defined }}", "True False True")]
    public void IsTests(string template, string expected) =>
        Assert.Equal(expected, Render(template, ("x", 1), ("n", null), ("d", new Dictionary<string, object?>()), ("l", new[] { 1 })));

    [Theory]
    [InlineData("[{{ '  a  '.strip() }}] [{{ 'xax'.strip('x') }}] [{{ '  a'.lstrip() }}] [{{ 'a  '.rstrip() }}]", "[a] [a] [a] [a]")]
    [InlineData("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }}", "True True")]
    [InlineData("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.rsplit(' ', 1) }}", "['a', 'b', '', 'c'] ['a', 'b'] ['a b', 'c']")]
    [InlineData("{{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'a-b'.replace('-', '+') }} {{ 'hello world'.title() }}", "HI hi a+b Hello World")]
    [InlineData("{{ '{} and {}'.format('x', 'y') }} {{ '{name}'.format(name='n') }} {{ '-'.join(['a', 'b']) }}", "x and y n a-b")]
    [InlineData("{{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ 'hello'.find('z') }}", "2 2 -1")]
    [InlineData("{{ d.get('a') }} {{ d.get('zz', 'dflt') }} {{ d.get('zz') }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }}", "1 dflt None [('a', 1)] ['a'] [1]")]
    [InlineData("{{ '<think>x</think>\\n\\nAnswer'.split('</think>')[-1].lstrip('\\n') }}", "Answer")]
    public void StringAndDictMethods(string template, string expected) =>
        Assert.Equal(expected, Render(template, ("d", new Dictionary<string, object?> { ["a"] = 1 })));

    [Theory]
    [InlineData("{{ l[1:] }}", "[2, 3, 4]")]
    [InlineData("{{ l[:-1] }}", "[1, 2, 3]")]
    [InlineData("{{ l[::-1] }}", "[4, 3, 2, 1]")]
    [InlineData("{{ l[::2] }}", "[1, 3]")]
    [InlineData("{{ l[-2:] }}", "[3, 4]")]
    [InlineData("{{ l[10:] }}", "[]")]
    [InlineData("{{ s[1:3] }} {{ s[::-1] }} {{ s[0] }} {{ s[-1] }}", "el olleh h o")]
    [InlineData("{{ l[0] }} {{ l[-1] }} {{ l.1 }} [{{ l[9] }}]", "1 4 2 []")]
    public void Slicing(string template, string expected) =>
        Assert.Equal(expected, Render(template, ("l", new[] { 1, 2, 3, 4 }), ("s", "hello")));

    [Fact]
    public void Macros()
    {
        const string t = "{% macro tag(name, body='', close=true) %}<{{ name }}>{{ body }}{% if close %}</{{ name }}>{% endif %}{% endmacro %}"
                         + "{{ tag('a') }}|{{ tag('b', 'x') }}|{{ tag('c', close=false) }}|{{ tag(name='d', body='y') }}";
        Assert.Equal("<a></a>|<b>x</b>|<c>|<d>y</d>", Render(t));
        Assert.Equal("120", Render("{% macro f(n) %}{% if n <= 1 %}1{% else %}{{ n * f(n - 1) | int }}{% endif %}{% endmacro %}{{ f(5) }}"));
        Assert.Equal("hi world", Render("{% set who = 'world' %}{% macro hi() %}hi {{ who }}{% endmacro %}{{ hi() }}"));
        Assert.Contains("takes no keyword argument 'zzz'", RenderError("{% macro m(a) %}{% endmacro %}{{ m(zzz=1) }}").Message);
    }

    [Fact]
    public void ListsAreImmutableAsInHfSandbox() =>
        Assert.Contains("unsafe", RenderError("{% set l = [] %}{{ l.append(1) }}").Message);

    [Fact]
    public void GlobalsRangeDictNamespaceStrftime()
    {
        Assert.Equal("[0, 1, 2] [2, 4] {'a': 1}", Render("{{ range(3) | list }} {{ range(2, 6, 2) | list }} {{ dict(a=1) }}"));
        var clock = new FixedClock(new DateTimeOffset(2025, 1, 5, 7, 8, 9, TimeSpan.Zero));
        Assert.Equal("05 Jan 2025 | 2025-01-05 07:08:09 | Sunday January 5",
            ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }} | {{ strftime_now('%Y-%m-%d %H:%M:%S') }} | {{ strftime_now('%A %B %-d') }}")
                .Render(new Dictionary<string, object?>(), clock));
    }
}
