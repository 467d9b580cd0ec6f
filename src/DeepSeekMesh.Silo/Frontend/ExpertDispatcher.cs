using System.Diagnostics;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Mesh;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Plan;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>
/// Routed experts over the mesh, dispatched by the placement plan: <see cref="Start"/> splits each
/// expert's rows between its replicas, groups them by the expert silo the plan names and sends ONE
/// <see cref="ExpertBatch"/> per silo, all in flight at once, then returns while the engine computes
/// the shared expert; <see cref="IPendingExperts.Wait"/> blocks the engine's thread (never an Orleans
/// scheduler thread) until every answer is back. A batch whose silo failed is sent again expert by
/// expert to the expert grains (which re-activate where the plan now says), with backoff: forward is
/// pure, and an expert silo dying mid-generation must not fail the sequence. Before the first plan
/// arrives, every distinct expert gets one grain call.
/// </summary>
public sealed class ExpertDispatcher(IGrainFactory grains, ExpertPlanCache plans, RowDtype wireDtype = RowDtype.F32,
    ExpertCallPolicy? policy = null, ILogger? logger = null) : IExpertExecutor
{
    readonly ExpertCallPolicy _policy = policy ?? new ExpertCallPolicy();
    readonly ILogger _logger = logger ?? NullLogger.Instance;
    int _rotation;

    public ExpertTrafficStats Stats { get; } = new();

    public RowDtype WireDtype => wireDtype;

    /// <summary>One expert replica's share of a work item: rows [First, First + Count) of item <see cref="Item"/>.</summary>
    readonly record struct Part(int Item, int Expert, int Replica, long First, long Count);

    public IPendingExperts Start(int layer, IReadOnlyList<ExpertWork> work)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            return Dispatch(layer, work);
        }
        finally
        {
            Stats.Started(Stopwatch.GetElapsedTime(started));
        }
    }

    IPendingExperts Dispatch(int layer, IReadOnlyList<ExpertWork> work)
    {
        var dtype = work.Count > 0 ? work[0].Rows.dtype : ScalarType.Float32;
        var device = work.Count > 0 ? work[0].Rows.device : null;
        var view = plans.View;
        if (view is null || !view.IsComplete || view.Plan.ReplicasOf(layer, 0).Length == 0)
            return StartPerExpert(layer, work, dtype, device);

        var bySilo = new Dictionary<int, List<Part>>();
        int rotation = _rotation++;
        for (int i = 0; i < work.Count; i++)
        {
            var replicas = view.Plan.ReplicasOf(layer, work[i].Expert);
            long n = work[i].Rows.shape[0], first = 0;
            for (int r = 0; r < replicas.Length; r++)
            {
                // even split; the remainder rows go to replicas in turn, step by step (a decode step often has one row per expert)
                long count = n / replicas.Length + ((r - rotation % replicas.Length + replicas.Length) % replicas.Length < n % replicas.Length ? 1 : 0);
                if (count == 0) continue;
                if (!bySilo.TryGetValue(replicas[r], out var parts)) bySilo[replicas[r]] = parts = new List<Part>();
                parts.Add(new Part(i, work[i].Expert, r, first, count));
                first += count;
            }
        }

        var batches = new List<(Part[] Parts, Task<TokenRows> Call)>(bySilo.Count);
        long rows = 0, bytes = 0;
        using (NewDisposeScope())
        {
            foreach (var (slot, parts) in bySilo.OrderBy(p => p.Key))
            {
                var x = cat(parts.Select(p => work[p.Item].Rows.narrow(0, p.First, p.Count)).ToList(), 0); // [Σ count, hidden]
                var batch = new ExpertBatch
                {
                    Layer = layer,
                    Experts = parts.Select(p => p.Expert).ToArray(),
                    Replicas = parts.Select(p => p.Replica).ToArray(),
                    RowCounts = parts.Select(p => (int)p.Count).ToArray(),
                    Rows = RowCodec.ToRows(x, wireDtype),
                    PlanVersion = view.Plan.Version,
                };
                rows += batch.Rows.Rows;
                bytes += batch.Rows.Data.Length;
                var silo = view.Plan.Silos[slot];
                batches.Add((parts.ToArray(), OnThreadPool(() => SendBatch(silo, batch))));
            }
        }
        Stats.Step(batches.Count, rows, bytes);
        return new PendingBatches(this, work, batches, dtype, device);
    }

    /// <summary>
    /// Starts a grain call from a thread-pool thread. Orleans pools each call's response source in a
    /// per-thread stack without bound: taken on the thread that starts the call, returned on the one
    /// that completes it. Started on the engine's own thread, every call took a new one and left it in
    /// a pool thread's stack, never to be taken again: the frontend grew ~2.5 MiB a minute under load
    /// (277,214 of them after 8 minutes of the soak). Started on the pool, they are reused.
    /// </summary>
    static Task<TokenRows> OnThreadPool(Func<Task<TokenRows>> call) => Thread.CurrentThread.IsThreadPoolThread ? call() : Task.Run(call);

    async Task<TokenRows> SendBatch(string silo, ExpertBatch batch)
    {
        try
        {
            return await grains.GetGrain<IMeshSiloGrain>(silo).Forward(batch);
        }
        catch (Exception e) when (IsTransient(e))
        {
            // The silo failed or left: send each expert's rows to its grain, which re-activates where the plan now says.
            Stats.Retried();
            _logger.LogWarning("expert batch for silo {Silo}, layer {Layer} failed ({Error}); sending its {Experts} experts one by one",
                silo, batch.Layer, e.GetType().Name, batch.Experts.Length);
            var results = new Task<TokenRows>[batch.Experts.Length];
            int first = 0;
            for (int i = 0; i < results.Length; i++)
            {
                results[i] = CallExpert(batch.Layer, batch.Experts[i], batch.Replicas[i], batch.Rows.Slice(first, batch.RowCounts[i]));
                first += batch.RowCounts[i];
            }
            var parts = await Task.WhenAll(results);
            var data = new byte[batch.Rows.Data.Length];
            int offset = 0;
            foreach (var part in parts)
            {
                part.Data.CopyTo(data, offset);
                offset += part.Data.Length;
            }
            return new TokenRows { Rows = batch.Rows.Rows, Columns = batch.Rows.Columns, Dtype = batch.Rows.Dtype, Data = data };
        }
    }

    /// <summary>No plan yet: one call per distinct expert (replica 0).</summary>
    IPendingExperts StartPerExpert(int layer, IReadOnlyList<ExpertWork> work, ScalarType dtype, Device? device)
    {
        var calls = new Task<TokenRows>[work.Count];
        long rows = 0, bytes = 0;
        for (int i = 0; i < work.Count; i++)
        {
            var payload = RowCodec.ToRows(work[i].Rows, wireDtype);
            rows += payload.Rows;
            bytes += payload.Data.Length;
            int expert = work[i].Expert;
            calls[i] = OnThreadPool(() => CallExpert(layer, expert, 0, payload));
        }
        Stats.Step(work.Count, rows, bytes);
        return new PendingExperts(this, calls, dtype, device);
    }

    async Task<TokenRows> CallExpert(int layer, int expert, int replica, TokenRows rows)
    {
        var backoff = _policy.InitialBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.GetExpertGrain(layer, expert, replica).Forward(rows);
            }
            catch (Exception e) when (IsTransient(e) && attempt < _policy.MaxAttempts)
            {
                Stats.Retried();
                _logger.LogWarning("expert {Layer}/{Expert}/{Replica} call failed ({Error}); retry {Attempt} in {Backoff} ms",
                    layer, expert, replica, e.GetType().Name, attempt, backoff.TotalMilliseconds);
                await Task.Delay(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _policy.MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>Failures of the call's transport or of the hosting silo, not of the expert's own code.</summary>
    static bool IsTransient(Exception e) => e is OrleansException or TimeoutException
        || (e is AggregateException { InnerExceptions.Count: 1 } a && IsTransient(a.InnerException!));

    sealed class PendingBatches(ExpertDispatcher owner, IReadOnlyList<ExpertWork> work, List<(Part[] Parts, Task<TokenRows> Call)> batches,
        ScalarType dtype, Device? device) : IPendingExperts
    {
        public Tensor[] Wait()
        {
            var clock = Stopwatch.StartNew();
            Task.WhenAll(batches.Select(b => b.Call)).GetAwaiter().GetResult();
            owner.Stats.Waited(clock.Elapsed);
            var pieces = new List<(long First, Tensor Rows)>[work.Count];
            using (var scope = NewDisposeScope())
            {
                foreach (var (parts, call) in batches)
                {
                    var rows = call.Result;
                    owner.Stats.Received(rows.Data.Length);
                    var y = RowCodec.ToTensor(rows, dtype, device); // [Σ count, hidden]
                    long offset = 0;
                    foreach (var p in parts)
                    {
                        (pieces[p.Item] ??= new()).Add((p.First, y.narrow(0, offset, p.Count)));
                        offset += p.Count;
                    }
                }
                var results = new Tensor[work.Count];
                for (int i = 0; i < work.Count; i++)
                {
                    var ordered = pieces[i].OrderBy(p => p.First).Select(p => p.Rows).ToList();
                    results[i] = (ordered.Count == 1 ? ordered[0] : cat(ordered, 0)).MoveToOuterDisposeScope(); // [n, hidden]
                }
                return results;
            }
        }
    }

    sealed class PendingExperts(ExpertDispatcher owner, Task<TokenRows>[] calls, ScalarType dtype, Device? device) : IPendingExperts
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
