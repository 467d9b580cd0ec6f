namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

public class SyntaxErrorTests
{
    [Theory]
    [InlineData("a\n  {{ 1 + }}", 2, 10, "Unexpected end of print statement")]
    [InlineData("{% for x %}{% endfor %}", 1, 10, "Expected 'in', got end of statement block")]
    [InlineData("{% endif %}", 1, 4, "Encountered unknown tag 'endif'")]
    [InlineData("x\n{% frobnicate %}", 2, 4, "Encountered unknown tag 'frobnicate'")]
    [InlineData("{{ 'abc }}", 1, 4, "Unterminated string literal")]
    [InlineData("{{ x | }}", 1, 8, "Expected filter name, got end of print statement")]
    [InlineData("{{ (1 }}", 1, 7, "Unexpected '}', expected ')'")]
    [InlineData("ok\n\n   {{ x", 3, 4, "Unexpected end of template inside a print statement, missing '}}'")]
    [InlineData("{# never closed", 1, 1, "Missing end of comment tag")]
    [InlineData("{% break %}", 1, 4, "'break' outside of a loop")]
    [InlineData("{{ a ! b }}", 1, 6, "Unexpected char '!'")]
    public void ReportsReasonLineAndColumn(string template, int line, int column, string reason)
    {
        var ex = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse(template));
        Assert.Equal(reason, ex.Reason);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Contains($"line {line}, column {column}", ex.Message);
    }

    [Fact]
    public void UnclosedBlockNamesTheBlockAndItsPosition()
    {
        var ex = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse("x\n  {% for m in messages %}\n{% if m %}{% endif %}"));
        Assert.Contains("'endfor' or 'else'", ex.Reason);
        Assert.Contains("innermost block that needs to be closed is 'for'", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void PathologicalNestingIsRejectedInsteadOfOverflowingTheStack()
    {
        Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}"));
        Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% if true %}", 5000))));
        Assert.Equal("1", ChatTemplate.Parse("{{ " + new string('(', 50) + "1" + new string(')', 50) + " }}").Render(new Dictionary<string, object?>()));
    }

    [Fact]
    public void SyntaxExceptionIsATemplateException() =>
        Assert.ThrowsAny<TemplateException>(() => ChatTemplate.Parse("{% if %}"));
}
