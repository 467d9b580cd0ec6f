using System.Globalization;
using DeepSeekMesh.Sampling;
using Orleans.Concurrency;

namespace DeepSeekMesh.Contracts;

/// <summary>
/// One completion request (key: request id). Lives on a frontend silo, hands the prompt's token ids
/// and the sampling parameters to that silo's engine and streams the tokens back as they are sampled
/// (the last one carries its <see cref="FinishReason"/>); cancelling the enumeration
/// (or the token) ends the sequence and frees its KV cache blocks. Throws
/// <see cref="CompletionRejectedException"/> on the first MoveNextAsync when the request is refused.
/// </summary>
[Alias("dsm.ICompletionGrain")]
public interface ICompletionGrain : IGrainWithStringKey
{
    [Alias("Generate")]
    IAsyncEnumerable<SampledToken> Generate(int[] prompt, SamplingParams sampling, CancellationToken cancellationToken = default);
}

/// <summary>
/// The router of one MoE layer (key: layer index): a stateless worker on the calling frontend
/// silo that owns the layer's gate weight and correction bias, picks the top-k experts of each
/// token row and counts tokens per expert for <see cref="IExpertStatsGrain"/>.
/// </summary>
[Alias("dsm.IRouterGrain")]
public interface IRouterGrain : IGrainWithIntegerKey
{
    [Alias("Route")]
    Task<Routing> Route(TokenRows rows);
}

/// <summary>
/// One routed expert (key: <see cref="ExpertKey"/> "layer/expert"), placed only on expert silos.
/// Loads its own three matrices on activation; <see cref="Forward"/> is a pure function of the rows,
/// so callers may retry it freely.
/// </summary>
[Alias("dsm.IExpertGrain")]
public interface IExpertGrain : IGrainWithStringKey
{
    /// <summary>SwiGLU over the rows: [n, hidden] -> [n, hidden], in the dtype the rows came in.</summary>
    [Alias("Forward")]
    Task<TokenRows> Forward(TokenRows rows);

    [Alias("Describe")]
    Task<ExpertInfo> Describe();
}

/// <summary>Per-expert token counts of one model (key: model id), reported by the router grains.</summary>
[Alias("dsm.IExpertStatsGrain")]
public interface IExpertStatsGrain : IGrainWithStringKey
{
    [OneWay, Alias("Report")]
    Task Report(ExpertLoadReport report);

    [Alias("GetLoad")]
    Task<ExpertLoad> GetLoad();

    [Alias("Reset")]
    Task Reset();
}

/// <summary>The key of an expert grain: "layer/expert".</summary>
public static class ExpertKey
{
    public static string Format(int layer, int expert) =>
        string.Create(CultureInfo.InvariantCulture, $"{layer}/{expert}");

    public static (int Layer, int Expert) Parse(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0
            || !int.TryParse(key.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var layer)
            || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var expert))
            throw new FormatException($"expert grain key '{key}' is not 'layer/expert'");
        return (layer, expert);
    }

    public static IExpertGrain GetExpertGrain(this IGrainFactory grains, int layer, int expert) =>
        grains.GetGrain<IExpertGrain>(Format(layer, expert));
}

/// <summary>What an expert activation holds and has done.</summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertInfo")]
public sealed class ExpertInfo
{
    [Id(0)] public int Layer { get; init; }
    [Id(1)] public int Expert { get; init; }
    /// <summary>The silo hosting this activation.</summary>
    [Id(2)] public string Silo { get; init; } = "";
    /// <summary>The silo's role metadata ("expert" or "all").</summary>
    [Id(3)] public string Role { get; init; } = "";
    /// <summary>The checkpoint tensors this activation loaded.</summary>
    [Id(4)] public string[] Tensors { get; init; } = [];
    [Id(5)] public long Parameters { get; init; }
    [Id(6)] public long Calls { get; init; }
    [Id(7)] public long Rows { get; init; }
}

/// <summary>Token counts routed to each expert of one layer since the router's last report.</summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertLoadReport")]
public sealed class ExpertLoadReport
{
    [Id(0)] public int Layer { get; init; }
    /// <summary>Tokens routed to expert e, [n_routed_experts].</summary>
    [Id(1)] public long[] Tokens { get; init; } = [];
}

/// <summary>Aggregated per-expert load of a model.</summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertLoad")]
public sealed class ExpertLoad
{
    /// <summary>MoE layer → tokens routed to each of its experts.</summary>
    [Id(0)] public Dictionary<int, long[]> TokensPerExpert { get; init; } = new();
    [Id(1)] public long Reports { get; init; }

    public long Total => TokensPerExpert.Values.Sum(v => v.Sum());
}
