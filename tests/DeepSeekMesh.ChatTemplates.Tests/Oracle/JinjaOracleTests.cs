using System.Text.Json;

namespace DeepSeekMesh.ChatTemplates.Tests.Oracle;

/// <summary>
/// Replays Oracle/jinja_cases.json: templates whose expected output was produced by the real Jinja2 3.1
/// configured like HuggingFace's chat-template environment (see generate_cases.py next to it).
/// </summary>
public class JinjaOracleTests
{
    private static readonly FixedClock Clock = new(new DateTimeOffset(2024, 7, 26, 13, 5, 9, TimeSpan.Zero));

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in LoadCases()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static List<JsonElement> LoadCases()
    {
        using var doc = JsonDocument.Parse(RepoFiles.ReadText("tests", "DeepSeekMesh.ChatTemplates.Tests", "Oracle", "jinja_cases.json"));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    [Fact]
    public void CaseFileIsNotEmpty() => Assert.True(LoadCases().Count >= 100);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesJinja(string name)
    {
        var c = LoadCases().Single(x => x.GetProperty("name").GetString() == name);
        string source = c.GetProperty("template").GetString()!;
        var vars = new Dictionary<string, object?>();
        foreach (var p in c.GetProperty("vars").EnumerateObject()) vars[p.Name] = p.Value;

        if (c.TryGetProperty("error", out var error))
        {
            var ex = Assert.ThrowsAny<TemplateException>(() => ChatTemplate.Parse(source).Render(vars, Clock));
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            if (error.GetString()!.StartsWith("TemplateError: ", StringComparison.Ordinal))
                Assert.Equal(error.GetString()!["TemplateError: ".Length..], ex.Message);
            return;
        }

        string expected = c.GetProperty("expected").GetString()!;
        Assert.Equal(expected, ChatTemplate.Parse(source).Render(vars, Clock));
    }
}
