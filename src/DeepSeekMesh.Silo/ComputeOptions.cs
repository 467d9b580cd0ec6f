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
        Description = "in-memory weight dtype: f32 (default) or bf16",
        DefaultValueFactory = _ => "f32",
    };

    readonly Option<int> _threads = new("--threads")
    {
        Description = "CPU threads for tensor math (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    readonly Option<string> _device = new("--device")
    {
        Description = "cpu (default) or cuda / cuda:N (needs a build with -p:TorchBackend=cuda)",
        DefaultValueFactory = _ => "cpu",
    };

    public ComputeOptions AddTo(Command command)
    {
        command.Options.Add(_weights);
        command.Options.Add(_threads);
        command.Options.Add(_device);
        return this;
    }

    public string WeightsName(ParseResult parse) => parse.GetValue(_weights)!;

    public ModelOptions Read(ParseResult parse)
    {
        torch.set_num_threads(Math.Max(1, parse.GetValue(_threads)));
        var device = parse.GetValue(_device)!;
        if (device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"--device {device}: CUDA is not available in this build or on this machine");
        return new ModelOptions
        {
            WeightDtype = parse.GetValue(_weights) switch
            {
                "f32" or "fp32" => torch.ScalarType.Float32,
                "bf16" => torch.ScalarType.BFloat16,
                var other => throw new ArgumentException($"--weights: '{other}' is not f32 or bf16"),
            },
            Device = torch.device(device),
        };
    }
}
