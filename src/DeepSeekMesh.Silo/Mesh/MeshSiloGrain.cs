using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Mesh;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Silo.Experts;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Placement;
using DeepSeekMesh.Silo.Plan;
using Orleans.Concurrency;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Mesh;

/// <summary>
/// This silo's agent (key: its address). On expert silos it is the dispatcher: one message per
/// (frontend step, MoE layer) brings the rows of every expert replica the plan put here; the
/// replicas active here compute with their lent weights, the rest (a stale plan, a replica not yet
/// active) are forwarded to their grains — an extra hop, never a failure — and the answer goes back
/// once. Reentrant, and computing off the grain's turn, so several frontends' layers overlap.
/// </summary>
[Reentrant]
[SiloKeyPlacement]
[GrainType("dsm-silo")]
public sealed class MeshSiloGrain(ModelStore store, LocalExperts local, SiloActivity activity, ExpertPlanCache plans,
    ExpertPlanFollower follower, MeshFrontend frontend, ILocalSiloDetails silo) : Grain, IMeshSiloGrain
{
    bool Misplaced => this.GetPrimaryKeyString() != silo.SiloAddress.ToParsableString();

    public async Task<TokenRows> Forward(ExpertBatch batch)
    {
        batch.Validate();
        if (batch.Rows.Columns != store.Config.HiddenSize)
            throw new ArgumentException($"expert batch rows have {batch.Rows.Columns} values, the model's hidden size is {store.Config.HiddenSize}");
        activity.BatchStarted();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var leases = new LocalExperts.Lease?[batch.Experts.Length];
        try
        {
            var forwarded = new Task<TokenRows>?[leases.Length];
            int offset = 0;
            for (int i = 0; i < leases.Length; i++)
            {
                var replica = new ExpertReplica(batch.Layer, batch.Experts[i], batch.Replicas[i]);
                leases[i] = local.TryAcquire(replica);
                if (leases[i] is null && batch.RowCounts[i] > 0)
                {
                    activity.Forwarded(batch.RowCounts[i]);
                    forwarded[i] = GrainFactory.GetExpertGrain(replica.Layer, replica.Expert, replica.Replica).Forward(batch.Rows.Slice(offset, batch.RowCounts[i]));
                }
                offset += batch.RowCounts[i];
            }
            return await Task.Run(() => Compute(batch, leases, forwarded));
        }
        finally
        {
            foreach (var lease in leases) lease?.Dispose();
            activity.BatchEnded(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            if (Misplaced) DeactivateOnIdle(); // placed here because the keyed silo was unknown or gone
        }
    }

    /// <summary>
    /// Runs the local items (outside the grain's turn) as ONE grouped product over the layer's experts
    /// resident here, and joins them with the forwarded ones, in the batch's order.
    /// </summary>
    TokenRows Compute(ExpertBatch batch, LocalExperts.Lease?[] leases, Task<TokenRows>?[] forwarded)
    {
        var options = store.Options.Model;
        using var scope = NewDisposeScope();
        var x = RowCodec.ToTensor(batch.Rows, options.ComputeDtype, options.Device); // [N, hidden]
        var rows = new Tensor?[leases.Length]; // each item's input rows [n, hidden]
        var local = new List<int>(leases.Length);
        long offset = 0;
        for (int i = 0; i < leases.Length; i++)
        {
            int n = batch.RowCounts[i];
            if (n == 0) continue;
            rows[i] = x.narrow(0, offset, n);
            if (leases[i] is not null) local.Add(i);
            offset += n;
        }
        var outputs = new Tensor?[leases.Length];
        if (local.Count > 0)
        {
            var y = Mlp.Grouped(local.Select(i => leases[i]!.Weights).ToList(), local.Select(i => rows[i]!).ToList()); // [Σ local n, hidden]
            long first = 0;
            foreach (int i in local)
            {
                outputs[i] = y.narrow(0, first, batch.RowCounts[i]); // [n, hidden]
                first += batch.RowCounts[i];
                activity.ExpertCalled(batch.RowCounts[i]);
            }
        }
        for (int i = 0; i < leases.Length; i++)
            if (rows[i] is not null && outputs[i] is null)
                outputs[i] = RowCodec.ToTensor(forwarded[i]!.GetAwaiter().GetResult(), x.dtype, x.device); // [n, hidden]
        var present = outputs.Where(o => o is not null).Select(o => o!).ToList();
        var result = present.Count == 0 ? x : cat(present, 0); // [N, hidden]
        return RowCodec.ToRows(result, batch.Rows.Dtype);
    }

    public Task<SiloReport> Describe()
    {
        var options = store.Options;
        EngineReport? engine = null;
        if (frontend.Loaded is { } loaded)
        {
            var s = loaded.Engine.Stats;
            var traffic = loaded.Traffic;
            engine = new EngineReport
            {
                Running = s.Running,
                Waiting = s.Waiting,
                CacheBlocksUsed = s.CacheBlocksUsed,
                CacheBlocksTotal = s.CacheBlocksTotal,
                Steps = s.StepsRun,
                TokensGenerated = s.TokensGenerated,
                ExpertCalls = traffic.Calls,
                ExpertRows = traffic.Rows,
                ExpertRetries = traffic.Retries,
            };
        }
        var report = new SiloReport
        {
            Address = silo.SiloAddress.ToParsableString(),
            Role = options.Role.Name(),
            Model = options.EffectiveModelId,
            Draining = follower.Draining,
            PlanVersion = plans.Version,
            Experts = local.Hosted.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToArray(),
            ExpertBytes = local.Bytes,
            ExpertRows = activity.ExpertRows,
            ExpertCalls = activity.ExpertMessages,
            ExpertCapacity = options.ExpertCapacity,
            ForwardedRows = activity.ForwardedRows,
            Engine = engine,
        };
        if (Misplaced) DeactivateOnIdle();
        return Task.FromResult(report);
    }
}
