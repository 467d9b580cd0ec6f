namespace DeepSeekMesh.ChatTemplates.Tests;

internal static class TestUtil
{
    public static string Render(string template, IReadOnlyDictionary<string, object?>? vars = null) =>
        ChatTemplate.Parse(template).Render(vars ?? new Dictionary<string, object?>());

    public static string Render(string template, params (string Name, object? Value)[] vars) =>
        ChatTemplate.Parse(template).Render(vars.ToDictionary(v => v.Name, v => v.Value));

    public static TemplateException RenderError(string template, params (string Name, object? Value)[] vars) =>
        Assert.ThrowsAny<TemplateException>(() => Render(template, vars));
}

/// <summary>A clock frozen at one instant, in UTC.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now.ToUniversalTime();

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
