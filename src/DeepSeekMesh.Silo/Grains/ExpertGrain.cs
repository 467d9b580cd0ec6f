using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Placement;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Grains;

/// <summary>
/// One routed expert (key "layer/expert"). Activates only on expert silos, loads its own
/// gate/up/down matrices (and nothing else) from the model directory, and runs them.
/// </summary>
[ExpertSilosOnly]
[GrainType("dsm-expert")]
public sealed class ExpertGrain(ModelStore store, SiloActivity activity, ILocalSiloDetails silo) : Grain, IExpertGrain
{
    Mlp? _mlp;
    int _layer, _expert;
    long _calls, _rows;
    string[] _tensors = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_layer, _expert) = ExpertKey.Parse(this.GetPrimaryKeyString());
        var config = store.Config;
        if (_layer < 0 || _layer >= config.NumHiddenLayers || !config.IsMoeLayer(_layer))
            throw new ArgumentException($"layer {_layer} is not a MoE layer of this model");
        if (_expert < 0 || _expert >= config.NRoutedExperts)
            throw new ArgumentException($"expert {_expert} is not in [0, {config.NRoutedExperts})");
        try
        {
            _mlp = LocalExpertExecutor.LoadExpert(store.Context, _layer, _expert);
        }
        catch (Exception e) when (e is WeightFormatException or ModelConfigException)
        {
            // The model library's exceptions have no Orleans codec: keep the message, which names the tensor.
            throw new InvalidOperationException($"expert {_layer}/{_expert} cannot load: {e.Message}");
        }
        var prefix = $"model.layers.{_layer}.mlp.experts.{_expert}";
        activity.ExpertActivated();
        _tensors = [$"{prefix}.gate_proj.weight", $"{prefix}.up_proj.weight", $"{prefix}.down_proj.weight"];
        return Task.CompletedTask;
    }

    public Task<TokenRows> Forward(TokenRows rows)
    {
        if (rows.Columns != store.Config.HiddenSize)
            throw new ArgumentException($"expert {_layer}/{_expert} takes rows of {store.Config.HiddenSize} values, got {rows.Columns}");
        var options = store.Options.Model;
        using var scope = NewDisposeScope();
        var x = RowCodec.ToTensor(rows, options.ComputeDtype, options.Device); // [n, hidden]
        var y = _mlp!.Forward(x); // [n, hidden]
        _calls++;
        _rows += rows.Rows;
        activity.ExpertCalled(rows.Rows);
        return Task.FromResult(RowCodec.ToRows(y, rows.Dtype));
    }

    public Task<ExpertInfo> Describe() => Task.FromResult(new ExpertInfo
    {
        Layer = _layer,
        Expert = _expert,
        Silo = silo.SiloAddress.ToString(),
        Role = store.Options.Role.Name(),
        Tensors = _tensors,
        Parameters = _mlp?.ParameterCount ?? 0,
        Calls = _calls,
        Rows = _rows,
    });

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_mlp is not null) activity.ExpertDeactivated();
        _mlp?.Dispose();
        _mlp = null;
        return Task.CompletedTask;
    }
}
