using DeepSeekMesh.Contracts;

namespace DeepSeekMesh.Silo.Grains;

/// <summary>
/// Per-expert token counts of one model (key: model id), summed from the router grains' reports.
/// In memory only: metrics and future rebalancing read it; a restart starts it from zero.
/// </summary>
[GrainType("dsm-expert-stats")]
public sealed class ExpertStatsGrain : Grain, IExpertStatsGrain
{
    readonly Dictionary<int, long[]> _tokens = new();
    long _reports;

    public Task Report(ExpertLoadReport report)
    {
        if (!_tokens.TryGetValue(report.Layer, out var counts) || counts.Length < report.Tokens.Length)
        {
            var grown = new long[report.Tokens.Length];
            counts?.CopyTo(grown, 0);
            _tokens[report.Layer] = counts = grown;
        }
        for (int e = 0; e < report.Tokens.Length; e++) counts[e] += report.Tokens[e];
        _reports++;
        return Task.CompletedTask;
    }

    public Task<ExpertLoad> GetLoad() => Task.FromResult(new ExpertLoad
    {
        TokensPerExpert = _tokens.ToDictionary(p => p.Key, p => p.Value.ToArray()),
        Reports = _reports,
    });

    public Task Reset()
    {
        _tokens.Clear();
        _reports = 0;
        return Task.CompletedTask;
    }
}
