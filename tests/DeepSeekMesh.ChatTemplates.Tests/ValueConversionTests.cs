using System.Text.Json;
using System.Text.Json.Nodes;
using static DeepSeekMesh.ChatTemplates.Tests.TestUtil;

namespace DeepSeekMesh.ChatTemplates.Tests;

public class ValueConversionTests
{
    private const string Probe = "{{ v.s }}|{{ v.i }}|{{ v.f }}|{{ v.b }}|{{ v.n }}|{{ v.l[1] }}|{{ v.d.k }}|{{ v.i is integer }}|{{ v.f is float }}";

    [Fact]
    public void FromJsonNode() =>
        Assert.Equal("x|3|1.0|True|None|b|deep|True|True",
            Render(Probe, ("v", JsonNode.Parse("""{"s": "x", "i": 3, "f": 1.0, "b": true, "n": null, "l": ["a", "b"], "d": {"k": "deep"}}"""))));

    [Fact]
    public void FromJsonElement()
    {
        using var doc = JsonDocument.Parse("""{"s": "x", "i": 3, "f": 1.0, "b": true, "n": null, "l": ["a", "b"], "d": {"k": "deep"}}""");
        Assert.Equal("x|3|1.0|True|None|b|deep|True|True", Render(Probe, ("v", doc.RootElement)));
    }

    [Fact]
    public void FromPlainDotNetObjects()
    {
        var v = new Dictionary<string, object?>
        {
            ["s"] = "x", ["i"] = 3L, ["f"] = 1.0, ["b"] = true, ["n"] = null,
            ["l"] = new List<string> { "a", "b" }, ["d"] = new Dictionary<string, object?> { ["k"] = "deep" },
        };
        Assert.Equal("x|3|1.0|True|None|b|deep|True|True", Render(Probe, ("v", v)));
    }

    [Fact]
    public void FromAnonymousObjectsRecordsAndTuples()
    {
        Assert.Equal("x|3|1.0|True|None|b|deep|True|True",
            Render(Probe, ("v", new { s = "x", i = 3, f = 1.0f, b = true, n = (string?)null, l = new[] { "a", "b" }, d = new { k = "deep" } })));
        Assert.Equal("user:hi:None", Render("{{ m.role }}:{{ m.content }}:{{ m.missing is defined }}".Replace("{{ m.missing is defined }}", "{{ n.content }}"),
            ("m", ChatMessage.User("hi")), ("n", new ChatMessage("assistant", null))));
        Assert.Equal("(1, 'a')", Render("{{ t }}", ("t", (1, "a"))));
    }

    [Fact]
    public void JsonNumbersKeepPythonIntFloatDistinction() =>
        Assert.Equal("1 1.0 1000.0 -2 2.5", Render("{{ a[0] }} {{ a[1] }} {{ a[2] }} {{ a[3] }} {{ a[4] }}", ("a", JsonNode.Parse("[1, 1.0, 1e3, -2, 2.5]"))));

    [Fact]
    public void RoundTripThroughToJsonPreservesStructureAndUnicode()
    {
        const string json = """{"name": "天気", "args": {"city": "Zürich", "days": [1, 2], "exact": 0.5, "flag": false, "x": null}}""";
        Assert.Equal(json, Render("{{ v | tojson }}", ("v", JsonNode.Parse(json))));
    }
}
