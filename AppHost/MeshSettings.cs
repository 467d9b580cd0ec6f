using Microsoft.Extensions.Configuration;

namespace DeepSeekMesh.AppHost;

/// <summary>
/// The AppHost's configuration section <c>Mesh</c> (appsettings.json, <c>--Mesh:ExpertSilos=3</c> on the
/// command line, or <c>Mesh__ExpertSilos=3</c> in the environment).
/// </summary>
public sealed class MeshSettings
{
    public const string Section = "Mesh";

    /// <summary>Expert silos (routed experts) beside the one frontend silo; changing it adds or removes only expert silos.</summary>
    public int ExpertSilos { get; set; } = 2;

    /// <summary>The gateway's HTTP port (OpenAI-compatible API).</summary>
    public int GatewayPort { get; set; } = 8000;

    /// <summary>A HuggingFace model directory (config.json, *.safetensors, tokenizer); empty: the random-weight demo model.</summary>
    public string? Model { get; set; }

    /// <summary>The model's id in the API (default: the directory's name).</summary>
    public string? ModelId { get; set; }

    /// <summary>Where the demo model is written once (default: ~/.cache/deepseekmesh/demo-tiny, or under $XDG_CACHE_HOME).</summary>
    public string? DemoModelDirectory { get; set; }

    /// <summary>CPU threads for tensor math per silo (every silo shares this machine).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Silo-to-silo ports: the frontend (primary) gets this one, expert silo i gets this + 1 + i.</summary>
    public int SiloPortBase { get; set; } = 11111;

    /// <summary>Orleans client gateway ports, numbered like <see cref="SiloPortBase"/>; the gateway connects to the frontend's.</summary>
    public int OrleansGatewayPortBase { get; set; } = 30000;

    public string ClusterId { get; set; } = "dsmesh";

    public static MeshSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<MeshSettings>() ?? new MeshSettings();
        if (settings.ExpertSilos < 1) throw new ArgumentException($"{Section}:ExpertSilos must be at least 1 (the frontend silo hosts no routed experts)");
        if (settings.Threads < 1) throw new ArgumentException($"{Section}:Threads must be at least 1");
        return settings;
    }

    public string DemoDirectory => !string.IsNullOrWhiteSpace(DemoModelDirectory) ? Path.GetFullPath(DemoModelDirectory)
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "deepseekmesh", "demo-tiny");
}

/// <summary>The random-weight demo model: DeepSeek-V3's architecture at the <c>tiny</c> preset, with DeepSeek-V3's real tokenizer.</summary>
public static class DemoModel
{
    /// <summary>True when <c>dsmesh init-model</c> finished writing <paramref name="directory"/> (it copies the tokenizer last).</summary>
    public static bool IsComplete(string directory) =>
        File.Exists(Path.Combine(directory, "config.json"))
        && File.Exists(Path.Combine(directory, "tokenizer.json"))
        && File.Exists(Path.Combine(directory, "tokenizer_config.json"))
        && Directory.EnumerateFiles(directory, "*.safetensors").Any();

    /// <summary>The arguments of <c>dsmesh init-model</c> that write it (through <c>ModelPreset.WriteDemo</c>, as the tests write theirs).</summary>
    public static string[] InitArguments(string directory, string tokenizerDirectory) =>
        ["init-model", "--preset", "tiny", "--seed", "0", "--dtype", "bf16", "--out", directory, "--tokenizer", tokenizerDirectory];
}
