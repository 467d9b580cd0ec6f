using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Placement;
using DeepSeekMesh.Silo.Plan;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Experts;

/// <summary>
/// One replica of one routed expert (key "layer/expert/replica"). Activates on the expert silo the
/// placement plan names (any expert silo before there is a plan), loads its own gate/up/down matrices
/// (and nothing else) and lends them to the silo's dispatcher through <see cref="LocalExperts"/>;
/// when the plan moves it, it migrates.
/// </summary>
[ExpertSilosOnly]
[ExpertPlanPlacement]
[GrainType("dsm-expert")]
public sealed class ExpertGrain(ModelStore store, SiloActivity activity, LocalExperts local, ExpertPlanCache plans, ILocalSiloDetails silo,
    IClusterMembershipService membership, ISiloMetadataCache metadata) : Grain, IExpertGrain
{
    Mlp? _mlp;
    ExpertReplica _id;
    long _calls, _rows;
    string[] _tensors = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (layer, expert, replica) = ExpertKey.Parse(this.GetPrimaryKeyString());
        _id = new ExpertReplica(layer, expert, replica);
        var config = store.Config;
        if (layer < 0 || layer >= config.NumHiddenLayers || !config.IsMoeLayer(layer))
            throw new ArgumentException($"layer {layer} is not a MoE layer of this model");
        if (expert < 0 || expert >= config.NRoutedExperts)
            throw new ArgumentException($"expert {expert} is not in [0, {config.NRoutedExperts})");
        if (replica < 0) throw new ArgumentException($"replica {replica} is negative");
        try
        {
            _mlp = LocalExpertExecutor.LoadExpert(store.Context, layer, expert);
        }
        catch (Exception e) when (e is WeightFormatException or ModelConfigException)
        {
            // The model library's exceptions have no Orleans codec: keep the message, which names the tensor.
            throw new InvalidOperationException($"expert {layer}/{expert} cannot load: {e.Message}");
        }
        var prefix = $"model.layers.{layer}.mlp.experts.{expert}";
        _tensors = [$"{prefix}.gate_proj.weight", $"{prefix}.up_proj.weight", $"{prefix}.down_proj.weight"];
        local.Add(_id, _mlp);
        activity.ExpertActivated();
        return Task.CompletedTask;
    }

    public Task<TokenRows> Forward(TokenRows rows)
    {
        if (rows.Columns != store.Config.HiddenSize)
            throw new ArgumentException($"expert {_id} takes rows of {store.Config.HiddenSize} values, got {rows.Columns}");
        var options = store.Options.Model;
        using var scope = NewDisposeScope();
        var x = RowCodec.ToTensor(rows, options.ComputeDtype, options.Device); // [n, hidden]
        var y = _mlp!.Forward(x); // [n, hidden]
        _calls++;
        _rows += rows.Rows;
        activity.Message();
        activity.ExpertCalled(rows.Rows);
        return Task.FromResult(RowCodec.ToRows(y, rows.Dtype));
    }

    public Task<ExpertInfo> Describe() => Task.FromResult(new ExpertInfo
    {
        Layer = _id.Layer,
        Expert = _id.Expert,
        Replica = _id.Replica,
        Silo = silo.SiloAddress.ToString(),
        Role = store.Options.Role.Name(),
        Tensors = _tensors,
        Parameters = _mlp?.ParameterCount ?? 0,
        Bytes = _mlp?.ParameterBytes ?? 0,
        Calls = _calls,
        Rows = _rows,
    });

    public Task FollowPlan()
    {
        if (plans.View is not { } view) return Task.CompletedTask;
        if (!view.IsComplete) return Task.CompletedTask;
        var planned = view.SiloOf(_id.Layer, _id.Expert, _id.Replica);
        if (planned is null) DeactivateOnIdle(); // the plan dropped this replica
        else if (!planned.Equals(silo.SiloAddress) && CanHost(planned)) MigrateOnIdle(); // placement puts it where the plan says
        return Task.CompletedTask;
    }

    /// <summary>True once this silo sees <paramref name="target"/> as an active expert silo (else placement would pick another one).</summary>
    bool CanHost(SiloAddress target) =>
        membership.CurrentSnapshot.GetSiloStatus(target) == SiloStatus.Active
        && metadata.GetSiloMetadata(target).Metadata.TryGetValue(SiloRoles.MetadataKey, out var role) && role is SiloRoles.Expert or SiloRoles.All;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_mlp is not null)
        {
            activity.ExpertDeactivated();
            local.Remove(_id); // disposes the weights once the dispatcher no longer computes with them
        }
        _mlp = null;
        return Task.CompletedTask;
    }
}
