using DeepSeekMesh.Contracts.Mesh;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// What each silo says about itself: its <see cref="IMeshSiloGrain"/> (key: the silo's address)
/// answers <see cref="IMeshSiloGrain.Describe"/> with its role, experts and, on frontends, the engine.
/// A silo that does not answer in time, or whose agent was placed on another silo, is left out (the
/// views show role "unknown" and no engine until the next request).
/// </summary>
public sealed class MeshReports(IGrainFactory grains)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The reports of <paramref name="silos"/> that arrived, by silo.</summary>
    public async Task<Dictionary<SiloAddress, SiloReport>> DescribeAsync(IEnumerable<SiloAddress> silos, CancellationToken cancellationToken)
    {
        var asked = silos.Select(async silo => (silo, report: await DescribeAsync(silo, cancellationToken))).ToArray();
        var answers = await Task.WhenAll(asked);
        return answers.Where(a => a.report is not null).ToDictionary(a => a.silo, a => a.report!);
    }

    async Task<SiloReport?> DescribeAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        try
        {
            var key = silo.ToParsableString();
            var report = await grains.GetGrain<IMeshSiloGrain>(key).Describe().WaitAsync(Timeout, cancellationToken);
            // An agent placed elsewhere (the placing silo did not know this one yet) describes its host, not this silo.
            return report.Address == key ? report : null;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // an older silo, a silo going down, or one too busy to answer
        }
    }
}
