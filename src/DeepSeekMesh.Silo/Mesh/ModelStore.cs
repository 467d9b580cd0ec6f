using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Silo.Mesh;

/// <summary>
/// The silo's view of the model directory: the config and the memory-mapped checkpoint, opened
/// once and shared by the grains that load their own tensors from it (experts, routers).
/// </summary>
public sealed class ModelStore : IDisposable
{
    readonly Lazy<LoadContext> _context;

    public ModelStore(IOptions<MeshSiloOptions> options)
    {
        Options = options.Value;
        _context = new Lazy<LoadContext>(Open, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public MeshSiloOptions Options { get; }

    /// <summary>Opens the config and the checkpoint headers; throws the model library's error naming what is wrong.</summary>
    public LoadContext Context => _context.Value;

    public ModelConfig Config => Context.Config;

    LoadContext Open()
    {
        var directory = Options.ModelDirectory;
        if (string.IsNullOrEmpty(directory)) throw new ArgumentException("the mesh silo needs a model directory");
        var config = ModelConfig.Load(directory);
        var checkpoint = Checkpoint.Open(directory);
        if (config.WeightBlockSize is { } block) checkpoint = checkpoint.WithBlockSize(block);
        return new LoadContext(checkpoint, config, Options.Model);
    }

    public void Dispose()
    {
        if (_context.IsValueCreated) _context.Value.Checkpoint.Dispose();
    }
}
