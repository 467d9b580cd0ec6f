using System.CommandLine;
using DeepSeekMesh.Model;
using TorchSharp;

namespace DeepSeekMesh.Silo;

/// <summary>
/// How a model-hosting verb computes (silo, serve, generate, logits, bench): in-memory weight dtype,
/// CPU threads, device. Added to a command as one group so every verb spells them the same.
/// </summary>
public sealed class ComputeOptions
{
    readonly Option<string> _weights = new("--weights")
    {
        Description = "in-memory weight dtype: f32, bf16, or fp8 (projections stored as F8_E4M3 stay FP8 with their block scales, the rest bf16); "
                      + "default auto: projections stored as F8_E4M3 stay FP8; the rest as stored when that is bf16 (f32 compute widens each weight exactly: "
                      + "the same numbers as f32 weights, half the memory), else in the compute dtype",
        DefaultValueFactory = _ => "auto",
    };

    readonly Option<string> _compute = new("--compute")
    {
        Description = "dtype of activations, the KV cache and expert rows on the wire: f32 or bf16 (default auto: bf16 on CUDA, f32 on CPU); "
                      + "norms, softmax and the gate accumulate in f32 either way",
        DefaultValueFactory = _ => "auto",
    };

    readonly Option<int> _threads = new("--threads")
    {
        Description = "CPU threads for tensor math (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    readonly Option<string> _device = new("--device")
    {
        Description = "cpu (default) or cuda / cuda:N (needs a CUDA libtorch: -p:TorchBackend=cuda, or =external with one on LD_LIBRARY_PATH / DSMESH_LIBTORCH)",
        DefaultValueFactory = _ => "cpu",
    };

    Option<DirectoryInfo>? _model;

    /// <summary>Adds the options; the command's <c>--model</c> (when it has one) tells <c>--weights auto</c> how the checkpoint stores its weights.</summary>
    public ComputeOptions AddTo(Command command)
    {
        _model = command.Options.OfType<Option<DirectoryInfo>>().FirstOrDefault(o => o.Name == "--model");
        command.Options.Add(_weights);
        command.Options.Add(_compute);
        command.Options.Add(_threads);
        command.Options.Add(_device);
        return this;
    }

    /// <summary>The weight dtype as given, or as <c>auto</c> resolves it: f32 or bf16, and "+fp8" where FP8-stored projections stay FP8.</summary>
    public string WeightsName(ParseResult parse)
    {
        var options = Read(parse, setThreads: false);
        var model = _model is null ? null : parse.GetValue(_model);
        bool fp8 = options.KeepFp8 && (model is null || Model.Config.ModelConfig.Load(model.FullName).WeightBlockSize is not null);
        return fp8 ? $"fp8 (others {DtypeName(options.WeightDtype)})" : DtypeName(options.WeightDtype);
    }

    /// <summary>The compute dtype as <c>auto</c> resolves it: f32 or bf16.</summary>
    public string ComputeName(ParseResult parse) => DtypeName(Read(parse, setThreads: false).ComputeDtype);

    public ModelOptions Read(ParseResult parse) => Read(parse, setThreads: true);

    ModelOptions Read(ParseResult parse, bool setThreads)
    {
        if (setThreads) torch.set_num_threads(Math.Max(1, parse.GetValue(_threads)));
        var device = parse.GetValue(_device)!;
        bool cuda = device.StartsWith("cuda", StringComparison.Ordinal);
        if (cuda && !torch.cuda.is_available())
            throw new ArgumentException($"--device {device}: CUDA is not available in this build or on this machine (dsmesh inspect --devices says why)");
        var compute = Dtype("--compute", parse.GetValue(_compute)!, auto: cuda ? torch.ScalarType.BFloat16 : torch.ScalarType.Float32);
        var weights = parse.GetValue(_weights)!;
        bool keepFp8 = weights is "auto" or "fp8";
        // auto: bf16-stored matrices stay bf16 (on the CPU the kernels widen them exactly, so f32
        // compute gives f32's numbers at half the bytes; on CUDA compute is bf16 anyway), else the compute dtype.
        var auto = weights == "auto" && StoredAsBf16(_model is null ? null : parse.GetValue(_model)) ? torch.ScalarType.BFloat16 : compute;
        return new ModelOptions
        {
            ComputeDtype = compute,
            // fp8: the tensors DeepSeek stores in bf16 (embedding, lm_head) stay bf16, as in the checkpoint.
            WeightDtype = Dtype("--weights", weights == "fp8" ? "bf16" : weights, auto),
            KeepFp8 = keepFp8,
            Device = torch.device(device),
        };
    }

    static bool StoredAsBf16(DirectoryInfo? model)
    {
        if (model is null || !model.Exists) return false; // the verb reports the missing model itself
        using var checkpoint = Model.Weights.Checkpoint.Open(model.FullName);
        return checkpoint.DenseMatricesAreBf16();
    }

    /// <summary>Expert rows travel in the compute dtype: bf16 rows when the model computes in bf16.</summary>
    public static DeepSeekMesh.Contracts.RowDtype WireDtypeFor(ModelOptions options) =>
        options.ComputeDtype == torch.ScalarType.BFloat16 ? DeepSeekMesh.Contracts.RowDtype.BF16 : DeepSeekMesh.Contracts.RowDtype.F32;

    static torch.ScalarType Dtype(string option, string name, torch.ScalarType auto) => name switch
    {
        "auto" => auto,
        "f32" or "fp32" => torch.ScalarType.Float32,
        "bf16" => torch.ScalarType.BFloat16,
        var other => throw new ArgumentException($"{option}: '{other}' is not {(option == "--weights" ? "f32, bf16, fp8" : "f32, bf16")} or auto"),
    };

    static string DtypeName(torch.ScalarType dtype) => dtype == torch.ScalarType.BFloat16 ? "bf16" : "f32";
}
