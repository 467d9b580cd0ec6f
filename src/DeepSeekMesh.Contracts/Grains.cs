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

    /// <summary>
    /// The address of the silo this activation lives on (<c>SiloAddress.ToParsableString()</c>): the gateway asks it
    /// first (the call activates the grain) so that it can fail the request fast when that silo is declared dead.
    /// </summary>
    [AlwaysInterleave, Alias("Silo")]
    Task<string> Silo();
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
/// One replica of one routed expert (key: <see cref="ExpertKey"/> "layer/expert/replica"), placed
/// on the expert silo the placement plan names. Loads its own three matrices on activation and
/// lends them to its silo's dispatcher; <see cref="Forward"/> is a pure function of the rows, so
/// callers may retry it freely.
/// </summary>
[Alias("dsm.IExpertGrain")]
public interface IExpertGrain : IGrainWithStringKey
{
    /// <summary>SwiGLU over the rows: [n, hidden] -> [n, hidden], in the dtype the rows came in.</summary>
    [Alias("Forward")]
    Task<TokenRows> Forward(TokenRows rows);

    [Alias("Describe")]
    Task<ExpertInfo> Describe();

    /// <summary>Moves this activation to the silo the placement plan now names (live migration), when that is another silo.</summary>
    [Alias("FollowPlan")]
    Task FollowPlan();
}

/// <summary>Per-expert token counts of one model (key: model id), reported by the router grains: in total and windowed.</summary>
[Alias("dsm.IExpertStatsGrain")]
public interface IExpertStatsGrain : IGrainWithStringKey
{
    [OneWay, Alias("Report")]
    Task Report(ExpertLoadReport report);

    /// <summary>Tokens per expert since start (or the last <see cref="Reset"/>).</summary>
    [Alias("GetLoad")]
    Task<ExpertLoad> GetLoad();

    /// <summary>Tokens per expert reported within the last <paramref name="window"/> (the placement plan balances by it).</summary>
    [Alias("GetRecentLoad")]
    Task<ExpertLoad> GetRecentLoad(TimeSpan window);

    [Alias("Reset")]
    Task Reset();
}

/// <summary>The key of an expert grain: "layer/expert/replica" ("layer/expert" reads as replica 0).</summary>
public static class ExpertKey
{
    public static string Format(int layer, int expert, int replica = 0) =>
        string.Create(CultureInfo.InvariantCulture, $"{layer}/{expert}/{replica}");

    public static (int Layer, int Expert, int Replica) Parse(string key)
    {
        var parts = key.Split('/');
        if (parts.Length is < 2 or > 3 || !TryParse(parts[0], out var layer) || !TryParse(parts[1], out var expert))
            throw new FormatException($"expert grain key '{key}' is not 'layer/expert/replica'");
        int replica = 0;
        if (parts.Length == 3 && !TryParse(parts[2], out replica))
            throw new FormatException($"expert grain key '{key}' is not 'layer/expert/replica'");
        return (layer, expert, replica);
    }

    static bool TryParse(string text, out int value) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static IExpertGrain GetExpertGrain(this IGrainFactory grains, int layer, int expert, int replica = 0) =>
        grains.GetGrain<IExpertGrain>(Format(layer, expert, replica));
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
    [Id(8)] public int Replica { get; init; }
    /// <summary>Bytes of its resident weights.</summary>
    [Id(9)] public long Bytes { get; init; }
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
