using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests.Interpreter;

public class LoopAndScopeTests
{
    [Fact]
    public void LoopVariables() =>
        Assert.Equal(
            "1|0|3|2|True|False|3;2|1|2|1|False|False|3;3|2|1|0|False|True|3;",
            Render("{% for x in 'abc' %}{{ loop.index }}|{{ loop.index0 }}|{{ loop.revindex }}|{{ loop.revindex0 }}|{{ loop.first }}|{{ loop.last }}|{{ loop.length }};{% endfor %}"));

    [Fact]
    public void PrevAndNextItem() =>
        Assert.Equal("[-b][a-c][b-]", Render("{% for x in ['a','b','c'] %}[{{ loop.previtem }}-{{ loop.nextitem }}]{% endfor %}"));

    [Fact]
    public void LoopFilterCountsOnlyKeptItems() =>
        Assert.Equal("1/2:2 2/2:4 ", Render("{% for n in [1, 2, 3, 4] if n is even %}{{ loop.index }}/{{ loop.length }}:{{ n }} {% endfor %}"));

    [Fact]
    public void ElseRunsWhenNothingIterated() =>
        Assert.Equal("empty|none", Render("{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] if false %}x{% else %}none{% endfor %}"));

    [Fact]
    public void TupleUnpackingOverItems() =>
        Assert.Equal("a=1,b=2,", Render("{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}", ("d", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 })));

    [Fact]
    public void BreakAndContinue() =>
        Assert.Equal("0134", Render("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"));

    [Fact]
    public void NestedLoopsHaveTheirOwnLoopVariable() =>
        Assert.Equal("12a12b", Render("{% for o in ['a', 'b'] %}{% for i in [1, 2] %}{{ loop.index }}{% endfor %}{{ o }}{% endfor %}"));

    [Fact]
    public void SetInsideLoopDoesNotLeakOrCarryOver() =>
        Assert.Equal("23|1", Render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}"));

    [Fact]
    public void SetInsideIfIsVisibleAfterwards() =>
        Assert.Equal("5", Render("{% if true %}{% set y = 5 %}{% endif %}{{ y }}"));

    [Fact]
    public void NamespaceCarriesStateOutOfLoops() =>
        Assert.Equal("6 True a,b",
            Render("{% set ns = namespace(total=0, seen=false, names='') %}"
                   + "{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}"
                   + "{% for n in ['a', 'b'] %}{% set ns.seen = true %}{% set ns.names = ns.names ~ (',' if ns.names else '') ~ n %}{% endfor %}"
                   + "{{ ns.total }} {{ ns.seen }} {{ ns.names }}"));

    [Fact]
    public void SetTupleAndBlockSet() =>
        Assert.Equal("1-2 [HELLO]", Render("{% set a, b = 1, 2 %}{% set t | upper %}hello{% endset %}{{ a }}-{{ b }} [{{ t }}]"));

    [Fact]
    public void AssigningAttributeOnNonNamespaceFails() =>
        Assert.Contains("namespace", RenderError("{% set d = {} %}{% set d.x = 1 %}").Message);
}
