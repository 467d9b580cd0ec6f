using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

public class FilterTests
{
    [Theory]
    [InlineData("{{ 'abc' | length }}{{ [1, 2] | count }}{{ {'a': 1} | length }}", "321")]
    [InlineData("{{ 'aB' | upper }} {{ 'aB' | lower }} {{ 'hello big-world' | title }} {{ 'hELLO' | capitalize }}", "AB ab Hello Big-World Hello")]
    [InlineData("[{{ '  x  ' | trim }}] [{{ '--x--' | trim('-') }}]", "[x] [x]")]
    [InlineData("{{ 'a.b.c' | replace('.', '/') }} {{ 'aaa' | replace('a', 'b', 1) }}", "a/b/c baa")]
    [InlineData("{{ [1, 2, 3] | join(', ') }} {{ ['x', 'y'] | join }}", "1, 2, 3 xy")]
    [InlineData("{{ missing | default('d') }} {{ none | default('d') }} {{ '' | d('e', true) }}", "d None e")]
    [InlineData("{{ [4, 5] | first }} {{ [4, 5] | last }} {{ 'ab' | list }}", "4 5 ['a', 'b']")]
    [InlineData("{{ 3 | string ~ '!' }} {{ '7' | int + 1 }} {{ '2.5' | float * 2 }} {{ 'x' | int(9) }}", "3! 8 5.0 9")]
    [InlineData("{{ -4 | abs }} {{ 3.14159 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(method='ceil') }}", "4 3.14 2.0 3.0")]
    [InlineData("{{ d | items | list }} {{ d.keys() | list }} {{ d.values() | list }}", "[('a', 1)] ['a'] [1]")]
    [InlineData("{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }}", "[1, 2, 3] [3, 2, 1] [3, 2, 1] cba")]
    [InlineData("{{ ['a', 'A', 'b', 'a'] | unique | list }}", "['a', 'b']")]
    [InlineData("{{ range(6) | select('odd') | list }} {{ range(6) | reject('odd') | list }}", "[1, 3, 5] [0, 2, 4]")]
    [InlineData("{{ 'a\nb' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", "a\n  b|  a\n  b")]
    [InlineData("{{ '<&>' | e }} {{ '<&>' | escape }} {{ '<b>' | safe }}", "&lt;&amp;&gt; &lt;&amp;&gt; <b>")]
    [InlineData("{{ 'one two  three' | wordcount }} [{{ 'ab' | center(6) }}]", "3 [  ab  ]")]
    [InlineData("{{ range(5) | batch(2) | list }}", "[[0, 1], [2, 3], [4]]")]
    [InlineData("{{ '%s=%d' | format('n', 3) }}", "n=3")]
    [InlineData("{% filter upper %}shout {{ 'this' }}{% endfilter %}", "SHOUT THIS")]
    public void BuiltinFilters(string template, string expected) =>
        Assert.Equal(expected, Render(template, ("d", new Dictionary<string, object?> { ["a"] = 1 })));

    [Fact]
    public void AttributeFilters()
    {
        var messages = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "system", ["content"] = "S" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "U1" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "U2" },
        };
        Assert.Equal("U1|U2 ['system'] ['system', 'user'] 2",
            Render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }} "
                   + "{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | list }} "
                   + "{{ messages | map(attribute='role') | unique | list }} "
                   + "{{ messages | selectattr('role', 'in', ['user']) | list | length }}",
                ("messages", messages)));
    }

    [Fact]
    public void ToJsonMatchesPythonJsonDumps()
    {
        var obj = System.Text.Json.Nodes.JsonNode.Parse("""{"name": "f", "n": 1, "x": 1.0, "ok": true, "none": null, "list": [1, "é"], "empty": {}}""");
        Assert.Equal("""{"name": "f", "n": 1, "x": 1.0, "ok": true, "none": null, "list": [1, "é"], "empty": {}}""", Render("{{ o | tojson }}", ("o", obj)));
        Assert.Equal("{\n  \"b\": [\n    1\n  ],\n  \"a\": \"\\\"q\\\"\\n\"\n}", Render("{{ {'b': [1], 'a': '\"q\"\\n'} | tojson(indent=2) }}"));
        Assert.Equal("""{"a": 2, "b": 1}""", Render("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"));
        Assert.Equal("""{"a":[1,2]}""", Render("{{ {'a': [1, 2]} | tojson(separators=(',', ':')) }}"));
        Assert.Equal("\"\\u00e9\"", Render("{{ 'é' | tojson(ensure_ascii=true) }}"));
    }

    [Fact]
    public void UnknownFilterIsATemplateError() =>
        Assert.Equal("No filter named 'frobnicate'.", RenderError("{{ 'a' | frobnicate }}").Message);
}
