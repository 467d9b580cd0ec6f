using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

/// <summary>trim_blocks / lstrip_blocks as HF enables them, "-" and "+" markers, newline handling.</summary>
public class WhitespaceTests
{
    [Theory]
    [InlineData("{% if true %}\nyes\n{% endif %}\n", "yes\n")]                 // trim_blocks eats the newline after each block tag
    [InlineData("a\n    {% if true %}b{% endif %}", "a\nb")]                    // lstrip_blocks: indentation before a block tag goes
    [InlineData("a\n    {{ 'b' }}", "a\n    b")]                                 // ...but not before a variable tag
    [InlineData("a\n\t {# c #}\nb", "a\nb")]                                      // comments are stripped like blocks
    [InlineData("x {% if true %}y{% endif %}", "x y")]                           // text before the tag on its line: no lstrip
    [InlineData("{% if true %}  {% endif %}z", "  z")]                           // not at a line start: kept
    [InlineData("{% if true %}\n  {% endif %}z", "z")]                           // after a trimmed newline: at a line start
    [InlineData("a\n  {%+ if true %}b{% endif %}", "a\n  b")]                   // "+" disables lstrip
    [InlineData("{% if true +%}\nb{% endif %}", "\nb")]                          // "+%}" disables trim_blocks
    [InlineData("a \n\t{{- 'b' -}}\n  c", "abc")]                                // "-" strips all whitespace incl. newlines
    [InlineData("a  {#- c -#}  b", "ab")]
    [InlineData("{{ 'v' }}\n", "v")]                                              // one trailing newline is dropped
    [InlineData("{{ 'v' }}\n\n", "v\n")]
    [InlineData("a\r\nb\rc", "a\nb\nc")]                                          // newlines normalized
    public void WhitespaceHandling(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void ForLoopOnOwnLinesProducesCleanLines()
    {
        const string t = "<ul>\n{% for i in [1, 2] %}\n  <li>{{ i }}</li>\n{% endfor %}\n</ul>";
        Assert.Equal("<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>", Render(t));
    }

    [Fact]
    public void RawBlockIsVerbatim() =>
        Assert.Equal("{{ x }} {% if %}", Render("{% raw %}{{ x }} {% if %}{% endraw %}"));

    [Fact]
    public void ClosingBracesInsideDictLiteralDoNotEndTheTag() =>
        Assert.Equal("1", Render("{{ {'a': {'b': 1}}['a']['b']}}"));
}
