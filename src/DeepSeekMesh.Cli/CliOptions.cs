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

    public static int[] ParseTokens(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException("--tokens needs at least one token id");
        return parts.Select(p => int.TryParse(p, out var id) && id >= 0 ? id : throw new UsageException($"--tokens: '{p}' is not a token id")).ToArray();
    }

    /// <summary>Loads a model with a progress bar on an interactive terminal for models over 256 MB.</summary>
    public static Transformer Load(DirectoryInfo directory, ModelOptions options)
    {
        long bytes = directory.Exists ? directory.EnumerateFiles("*.safetensors").Sum(f => f.Length) : 0;
        using var bar = bytes > 256L << 20 ? new ProgressBar("loading", Console.IsErrorRedirected) : null;
        return Transformer.Load(directory.FullName, options, progress: bar is null ? null : bar.Report);
    }
}
