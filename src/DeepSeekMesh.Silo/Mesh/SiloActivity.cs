using System.Collections.Concurrent;

namespace DeepSeekMesh.Silo.Mesh;

/// <summary>
/// What this silo's mesh grains are doing, per silo (router grains are stateless workers, which
/// the management grain's activation listing does not show).
/// </summary>
public sealed class SiloActivity
{
    readonly ConcurrentDictionary<int, int> _routers = new();
    long _expertActivations, _expertCalls, _expertRows, _routedTokens, _messages, _inFlight, _forwardedRows, _batchTicks;

    /// <summary>MoE layer → live router activations on this silo.</summary>
    public IReadOnlyDictionary<int, int> RouterActivations => _routers.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => p.Value);
    public long ExpertActivations => Interlocked.Read(ref _expertActivations);
    public long ExpertCalls => Interlocked.Read(ref _expertCalls);
    public long ExpertRows => Interlocked.Read(ref _expertRows);
    public long RoutedTokens => Interlocked.Read(ref _routedTokens);
    /// <summary>Expert messages served: dispatcher batches and direct expert grain calls.</summary>
    public long ExpertMessages => Interlocked.Read(ref _messages);
    /// <summary>Rows a dispatcher batch brought for a replica not active here, forwarded to its grain (a stale plan or a first use).</summary>
    public long ForwardedRows => Interlocked.Read(ref _forwardedRows);
    /// <summary>Time the dispatcher spent computing batches (summed over concurrent batches).</summary>
    public TimeSpan BatchTime => TimeSpan.FromTicks(Interlocked.Read(ref _batchTicks));
    /// <summary>Dispatcher batches being computed now (a draining silo waits for 0).</summary>
    public long BatchesInFlight => Interlocked.Read(ref _inFlight);

    internal void RouterActivated(int layer) => _routers.AddOrUpdate(layer, 1, (_, n) => n + 1);
    internal void RouterDeactivated(int layer) => _routers.AddOrUpdate(layer, 0, (_, n) => n - 1);
    internal void Routed(int tokens) => Interlocked.Add(ref _routedTokens, tokens);
    internal void ExpertActivated() => Interlocked.Increment(ref _expertActivations);
    internal void ExpertDeactivated() => Interlocked.Decrement(ref _expertActivations);

    internal void Message() => Interlocked.Increment(ref _messages);

    internal void BatchStarted()
    {
        Interlocked.Increment(ref _messages);
        Interlocked.Increment(ref _inFlight);
    }

    internal void BatchEnded(TimeSpan time)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Add(ref _batchTicks, time.Ticks);
    }

    internal void Forwarded(int rows) => Interlocked.Add(ref _forwardedRows, rows);

    /// <summary>One expert computed <paramref name="rows"/> rows.</summary>
    internal void ExpertCalled(int rows)
    {
        Interlocked.Increment(ref _expertCalls);
        Interlocked.Add(ref _expertRows, rows);
    }
}
