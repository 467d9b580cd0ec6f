using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

public class ErrorAndUndefinedTests
{
    [Fact]
    public void RaiseExceptionThrowsTemplateExceptionWithTheMessage()
    {
        var ex = RenderError("line1\n{% if messages | length == 0 %}{{ raise_exception('Conversation is empty!') }}{% endif %}", ("messages", Array.Empty<object>()));
        Assert.Equal("Conversation is empty!", ex.Message);
        Assert.Equal(2, ex.Line);
    }

    [Theory]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")]
    [InlineData("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'")]
    [InlineData("{{ 'a' is frobnicated }}", "No test named 'frobnicated'.")]
    [InlineData("{{ 'a'() }}", "'str' object is not callable")]
    [InlineData("{% for x in none %}{% endfor %}", "'NoneType' object is not iterable")]
    [InlineData("{% for a, b in [[1, 2, 3]] %}{% endfor %}", "too many values to unpack (expected 2)")]
    [InlineData("{{ missing | tojson }}", "Object of type Undefined is not JSON serializable")]
    [InlineData("{{ ', '.join([1]) }}", "sequence item: expected str instance, int found")]
    [InlineData("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "maximum recursion depth exceeded")]
    public void RuntimeErrorsAreTemplateExceptions(string template, string message) =>
        Assert.Equal(message, RenderError(template).Message);

    [Fact]
    public void UndefinedRendersEmptyIsFalsyAndIteratesEmpty()
    {
        Assert.Equal("[] [] [] 0 no x|", Render("[{{ missing }}] [{{ d.nope }}] [{{ missing | upper }}] {{ missing | length }} {% if missing %}yes{% else %}no{% endif %} {{ missing ~ 'x' }}|{% for i in missing %}i{% endfor %}",
            ("d", new Dictionary<string, object?>())));
        Assert.Equal("True False False", Render("{{ missing == missing }} {{ missing == none }} {{ 'x' in missing }}"));
    }

    [Fact]
    public void AccessOnUndefinedChainsToUndefined() =>
        // Lenient like Jinja's ChainableUndefined; plain Jinja would raise here.
        Assert.Equal("[] False []", Render("[{{ missing.a.b }}] {{ missing.a is defined }} [{{ missing['k'][0] }}]"));

    [Theory]
    [InlineData("{{ missing + 1 }}", "'missing' is undefined")]
    [InlineData("{{ d.nope + 'a' }}", "'dict object' has no attribute 'nope'")]
    [InlineData("{{ missing() }}", "'missing' is undefined")]
    [InlineData("{{ -missing }}", "'missing' is undefined")]
    [InlineData("{{ missing < 1 }}", "'missing' is undefined")]
    public void OperationsOnUndefinedFailClearly(string template, string message) =>
        Assert.Equal(message, RenderError(template, ("d", new Dictionary<string, object?>())).Message);

    [Fact]
    public void ErrorsCarryTheLineOfTheFailingStatement() =>
        Assert.Equal(3, RenderError("a\nb\n{{ 1 + none }}").Line);
}
