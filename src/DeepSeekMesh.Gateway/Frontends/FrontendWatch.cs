using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway.Frontends;

/// <summary>
/// Fails requests fast when the frontend silo that holds them dies. A call in flight to a silo killed
/// with SIGKILL is not answered: Orleans would wait for its response timeout, and a stream would stall
/// that long. While requests are in flight, this reads the cluster's membership every
/// <see cref="Interval"/> and cancels (<see cref="Watch"/>) those whose silo is declared dead — which the
/// silos' failure detector does within a few seconds — so that the gateway retries or ends them.
/// </summary>
public sealed class FrontendWatch(IGrainFactory grains, ILogger<FrontendWatch> logger) : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    readonly ConcurrentDictionary<Watched, byte> _watched = new();
    readonly Lock _gate = new();
    readonly CancellationTokenSource _stop = new();
    bool _running;

    /// <summary>Cancels <paramref name="lost"/> when <paramref name="silo"/> (a parsable silo address) is declared dead, until disposed.</summary>
    public IDisposable Watch(string silo, CancellationTokenSource lost)
    {
        var watched = new Watched(this, silo, lost);
        lock (_gate)
        {
            _watched.TryAdd(watched, 0);
            if (!_running)
            {
                _running = true;
                _ = Task.Run(LoopAsync);
            }
        }
        return watched;
    }

    async Task LoopAsync()
    {
        while (true)
        {
            try
            {
                await Task.Delay(Interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate)
            {
                if (_watched.IsEmpty)
                {
                    _running = false;
                    return;
                }
            }
            await PollAsync();
        }
    }

    async Task PollAsync()
    {
        Dictionary<SiloAddress, SiloStatus> hosts;
        try
        {
            hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).WaitAsync(4 * Interval, _stop.Token);
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            logger.LogDebug(e, "membership not readable; frontends of requests in flight not checked");
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var alive = hosts.Where(h => h.Value != SiloStatus.Dead).Select(h => h.Key.ToParsableString()).ToHashSet();
        foreach (var watched in _watched.Keys)
            if (!alive.Contains(watched.Silo) && watched.Lose())
                logger.LogWarning("frontend silo {Silo} was declared dead: failing its request in flight", watched.Silo);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    sealed class Watched(FrontendWatch watch, string silo, CancellationTokenSource lost) : IDisposable
    {
        int _lost;

        public string Silo => silo;

        public bool Lose()
        {
            if (Interlocked.Exchange(ref _lost, 1) != 0) return false;
            try { lost.Cancel(); } catch (ObjectDisposedException) { return false; }
            return true;
        }

        public void Dispose() => watch._watched.TryRemove(this, out _);
    }
}
