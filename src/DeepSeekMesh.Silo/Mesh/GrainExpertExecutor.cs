using System.Diagnostics;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Layers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Mesh;

/// <summary>Counters of the expert traffic one executor has sent (for metrics and benchmarks).</summary>
public sealed class ExpertTrafficStats
{
    long _steps, _calls, _rows, _bytesSent, _bytesReceived, _retries, _waitTicks;

    /// <summary>MoE layer invocations (one Start/Wait pair each).</summary>
    public long LayerSteps => Interlocked.Read(ref _steps);
    public long Calls => Interlocked.Read(ref _calls);
    public long Rows => Interlocked.Read(ref _rows);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>Time spent blocked in Wait() after the shared expert was done.</summary>
    public TimeSpan WaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    internal void Step(int calls, long rows, long bytes)
    {
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _calls, calls);
        Interlocked.Add(ref _rows, rows);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void Received(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);
    internal void Retried() => Interlocked.Increment(ref _retries);
    internal void Waited(TimeSpan time) => Interlocked.Add(ref _waitTicks, time.Ticks);

    public override string ToString() =>
        $"{LayerSteps} layer steps, {Calls} calls, {Rows} rows, {BytesSent} B sent, {BytesReceived} B received, {Retries} retries, waited {WaitTime.TotalMilliseconds:F1} ms";
}

/// <summary>
/// Routed experts as grains: <see cref="Start"/> sends ONE call per distinct expert with all its
/// rows, all in flight at once, and returns while the engine computes the shared expert;
/// <see cref="IPendingExperts.Wait"/> blocks the engine's thread (never an Orleans scheduler
/// thread) until every result is back. A failed call is retried with backoff: forward is pure, and
/// an expert silo dying mid-generation must not fail the sequence.
/// </summary>
public sealed class GrainExpertExecutor(IGrainFactory grains, RowDtype wireDtype = RowDtype.F32, ExpertCallPolicy? policy = null,
    ILogger? logger = null) : IExpertExecutor
{
    readonly ExpertCallPolicy _policy = policy ?? new ExpertCallPolicy();
    readonly ILogger _logger = logger ?? NullLogger.Instance;

    public ExpertTrafficStats Stats { get; } = new();

    public RowDtype WireDtype => wireDtype;

    public IPendingExperts Start(int layer, IReadOnlyList<ExpertWork> work)
    {
        var calls = new Task<TokenRows>[work.Count];
        long rows = 0, bytes = 0;
        var dtype = ScalarType.Float32;
        Device? device = null;
        for (int i = 0; i < work.Count; i++)
        {
            var payload = RowCodec.ToRows(work[i].Rows, wireDtype);
            rows += payload.Rows;
            bytes += payload.Data.Length;
            dtype = work[i].Rows.dtype;
            device = work[i].Rows.device;
            calls[i] = Call(layer, work[i].Expert, payload);
        }
        Stats.Step(work.Count, rows, bytes);
        return new Pending(this, calls, dtype, device);
    }

    async Task<TokenRows> Call(int layer, int expert, TokenRows rows)
    {
        var backoff = _policy.InitialBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.GetExpertGrain(layer, expert).Forward(rows);
            }
            catch (Exception e) when (IsTransient(e) && attempt < _policy.MaxAttempts)
            {
                Stats.Retried();
                _logger.LogWarning("expert {Layer}/{Expert} call failed ({Error}); retry {Attempt} in {Backoff} ms",
                    layer, expert, e.GetType().Name, attempt, backoff.TotalMilliseconds);
                await Task.Delay(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _policy.MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>Failures of the call's transport or of the hosting silo, not of the expert's own code.</summary>
    static bool IsTransient(Exception e) => e is OrleansException or TimeoutException
        || (e is AggregateException { InnerExceptions.Count: 1 } a && IsTransient(a.InnerException!));

    sealed class Pending(GrainExpertExecutor owner, Task<TokenRows>[] calls, ScalarType dtype, Device? device) : IPendingExperts
    {
        public Tensor[] Wait()
        {
            var clock = Stopwatch.StartNew();
            Task.WhenAll(calls).GetAwaiter().GetResult();
            owner.Stats.Waited(clock.Elapsed);
            var results = new Tensor[calls.Length];
            for (int i = 0; i < calls.Length; i++)
            {
                var rows = calls[i].Result;
                owner.Stats.Received(rows.Data.Length);
                results[i] = RowCodec.ToTensor(rows, dtype, device);
            }
            return results;
        }
    }

    public void Dispose() { }
}

/// <summary>The MoE layer's router as its router grain (a stateless worker on this frontend silo).</summary>
public sealed class GrainRouter(IGrainFactory grains, int layer) : IRouter
{
    readonly IRouterGrain _grain = grains.GetGrain<IRouterGrain>(layer);

    public int Layer => layer;

    public (Tensor Weights, Tensor Indices) Route(Tensor x) // [T, hidden] -> [T, k] float, [T, k] int64
    {
        var routing = _grain.Route(RowCodec.ToRows(x, RowDtype.F32)).GetAwaiter().GetResult();
        var weights = tensor(routing.Weights, [routing.Tokens, routing.TopK], ScalarType.Float32).to(x.dtype, x.device);
        var indices = tensor(routing.Indices, [routing.Tokens, routing.TopK], ScalarType.Int32).to(ScalarType.Int64, x.device);
        return (weights, indices);
    }

    public void Dispose() { }
}
