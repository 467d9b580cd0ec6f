using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DeepSeekMesh.Silo.Plan;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>
/// A frontend silo's engine: the transformer (embeddings, attention, dense layers, shared experts,
/// lm_head) loaded with <see cref="GrainRouter"/>s and an <see cref="ExpertDispatcher"/>, and the
/// <see cref="InferenceEngine"/> that batches every sequence of this silo. Loaded at silo start
/// (so a bad model directory fails the start-up), never on expert silos.
/// </summary>
public sealed class MeshFrontend : IAsyncDisposable
{
    readonly MeshSiloOptions _options;
    readonly IGrainFactory _grains;
    readonly ExpertPlanCache _plans;
    readonly ILogger<MeshFrontend> _logger;
    readonly Lock _lock = new();
    Transformer? _model;
    InferenceEngine? _engine;
    ExpertDispatcher? _experts;
    bool _disposed;

    public MeshFrontend(IOptions<MeshSiloOptions> options, IGrainFactory grains, ExpertPlanCache plans, ILogger<MeshFrontend> logger)
    {
        _options = options.Value;
        _grains = grains;
        _plans = plans;
        _logger = logger;
    }

    /// <summary>True on frontend and all-in-one silos.</summary>
    public bool Enabled => _options.Role.ServesCompletions();

    /// <summary>The engine, loading the model on first use.</summary>
    public InferenceEngine Engine
    {
        get
        {
            if (!Enabled) throw new InvalidOperationException($"a silo with role '{_options.Role.Name()}' runs no engine");
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_engine is null)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    (_model, _experts) = LoadModel(_options.ModelDirectory, _grains, _plans, _options, _logger);
                    _engine = new InferenceEngine(_model, _options.Engine, Vocabulary(_options.ModelDirectory, _model.Config));
                    _logger.LogInformation("engine ready: {Layers} layers of {Model} loaded in {Seconds:F1} s, experts over the mesh ({Dtype} rows)",
                        _model.Config.NumHiddenLayers, _options.EffectiveModelId, clock.Elapsed.TotalSeconds, _options.WireDtype);
                }
                return _engine;
            }
        }
    }

    /// <summary>
    /// The tokenizer's vocabulary for JSON response formats, read from the model directory on the first such request
    /// (the silo never tokenizes; it needs each token's bytes to mask logits); null without tokenizer files.
    /// </summary>
    static Func<Sampling.Structured.TokenVocabulary>? Vocabulary(string directory, Model.Config.ModelConfig config)
    {
        if (!File.Exists(Path.Combine(directory, "tokenizer.json")) || !File.Exists(Path.Combine(directory, "tokenizer_config.json"))) return null;
        return () => Sampling.Structured.TokenVocabulary.FromTokenizer(Tokenizers.Tokenizer.FromDirectory(directory), config.VocabSize,
            config.EosTokenId is { } eos ? [eos] : []);
    }

    /// <summary>Expert traffic of this silo's engine; null until the engine is loaded.</summary>
    public ExpertTrafficStats? ExpertTraffic => _experts?.Stats;

    /// <summary>The engine and its expert traffic once loaded (never loads it); null before that and after disposal.</summary>
    public (InferenceEngine Engine, ExpertTrafficStats Traffic)? Loaded
    {
        get
        {
            lock (_lock) return _engine is not null && _experts is not null ? (_engine, _experts.Stats) : null;
        }
    }

    /// <summary>
    /// Loads the frontend half of a model: everything but the routed experts, which run as expert
    /// grains, and the gates, which run as this silo's router grains.
    /// </summary>
    public static (Transformer Model, ExpertDispatcher Experts) LoadModel(string directory, IGrainFactory grains, ExpertPlanCache plans,
        MeshSiloOptions options, ILogger? logger = null)
    {
        ExpertDispatcher? experts = null;
        var model = Transformer.Load(directory, options.Model,
            experts: _ => experts = new ExpertDispatcher(grains, plans, options.WireDtype, options.ExpertCalls, logger),
            routers: (_, layer) => new GrainRouter(grains, layer, experts!.Stats)); // experts are created first
        return (model, experts!);
    }

    public async ValueTask DisposeAsync()
    {
        InferenceEngine? engine;
        Transformer? model;
        lock (_lock)
        {
            _disposed = true;
            engine = _engine;
            model = _model;
            _engine = null;
            _model = null;
        }
        if (engine is not null) await engine.DisposeAsync();
        model?.Dispose();
    }
}
