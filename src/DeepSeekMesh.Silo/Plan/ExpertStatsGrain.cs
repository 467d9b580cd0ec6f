using DeepSeekMesh.Contracts;

namespace DeepSeekMesh.Silo.Plan;

/// <summary>
/// Per-expert token counts of one model (key: model id), summed from the router grains' reports:
/// in total (metrics, /v1/mesh) and in time buckets for the recent window the placement plan
/// balances by. In memory only: a restart starts it from zero.
/// </summary>
[GrainType("dsm-expert-stats")]
public sealed class ExpertStatsGrain(TimeProvider clock) : Grain, IExpertStatsGrain
{
    static readonly TimeSpan BucketLength = TimeSpan.FromSeconds(2);
    static readonly TimeSpan Retention = TimeSpan.FromMinutes(2);

    readonly Dictionary<int, long[]> _tokens = new();
    readonly LinkedList<(DateTimeOffset Start, Dictionary<int, long[]> Tokens)> _buckets = new();
    long _reports;

    public Task Report(ExpertLoadReport report)
    {
        Add(_tokens, report);
        var now = clock.GetUtcNow();
        if (_buckets.Last is not { } last || now - last.Value.Start >= BucketLength)
            _buckets.AddLast((now, new Dictionary<int, long[]>()));
        Add(_buckets.Last!.Value.Tokens, report);
        while (_buckets.First is { } first && now - first.Value.Start > Retention) _buckets.RemoveFirst();
        _reports++;
        return Task.CompletedTask;
    }

    static void Add(Dictionary<int, long[]> tokens, ExpertLoadReport report)
    {
        if (!tokens.TryGetValue(report.Layer, out var counts) || counts.Length < report.Tokens.Length)
        {
            var grown = new long[report.Tokens.Length];
            counts?.CopyTo(grown, 0);
            tokens[report.Layer] = counts = grown;
        }
        for (int e = 0; e < report.Tokens.Length; e++) counts[e] += report.Tokens[e];
    }

    public Task<ExpertLoad> GetLoad() => Task.FromResult(new ExpertLoad
    {
        TokensPerExpert = _tokens.ToDictionary(p => p.Key, p => p.Value.ToArray()),
        Reports = _reports,
    });

    public Task<ExpertLoad> GetRecentLoad(TimeSpan window)
    {
        var since = clock.GetUtcNow() - window;
        var recent = new Dictionary<int, long[]>();
        foreach (var (start, tokens) in _buckets)
        {
            if (start + BucketLength < since) continue;
            foreach (var (layer, counts) in tokens) Add(recent, new ExpertLoadReport { Layer = layer, Tokens = counts });
        }
        return Task.FromResult(new ExpertLoad { TokensPerExpert = recent, Reports = _reports });
    }

    public Task Reset()
    {
        _tokens.Clear();
        _buckets.Clear();
        _reports = 0;
        return Task.CompletedTask;
    }
}
