using System.CommandLine;
using DeepSeekMesh.Model;
using TorchSharp;

namespace DeepSeekMesh.Cli;

/// <summary>Options shared by several verbs, and their parsing.</summary>
public static class CliOptions
{
    public static Option<DirectoryInfo> Model() => new("--model")
    {
        Description = "HuggingFace model directory (config.json + *.safetensors)",
        Required = true,
    };

    public static Option<string> Tokens(bool required) => new("--tokens")
    {
        Description = "prompt token ids, comma-separated (e.g. 1,2,3)",
        Required = required,
    };

    public static Option<string> WeightDtype() => new("--weights")
    {
        Description = "in-memory weight dtype: f32 (default) or bf16",
        DefaultValueFactory = _ => "f32",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for tensor math (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static int[] ParseTokens(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException("--tokens needs at least one token id");
        return parts.Select(p => int.TryParse(p, out var id) && id >= 0 ? id : throw new UsageException($"--tokens: '{p}' is not a token id")).ToArray();
    }

    public static ModelOptions ModelOptions(string weights, int threads)
    {
        torch.set_num_threads(Math.Max(1, threads));
        return new ModelOptions
        {
            WeightDtype = weights switch
            {
                "f32" or "fp32" => torch.ScalarType.Float32,
                "bf16" => torch.ScalarType.BFloat16,
                _ => throw new UsageException($"--weights: '{weights}' is not f32 or bf16"),
            },
        };
    }

    /// <summary>Loads a model with a progress bar on an interactive terminal for models over 256 MB.</summary>
    public static Transformer Load(DirectoryInfo directory, ModelOptions options)
    {
        long bytes = directory.Exists ? directory.EnumerateFiles("*.safetensors").Sum(f => f.Length) : 0;
        using var bar = bytes > 256L << 20 ? new ProgressBar("loading", Console.IsErrorRedirected) : null;
        return Transformer.Load(directory.FullName, options, progress: bar is null ? null : bar.Report);
    }
}
