using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Text;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// The model the gateway serves: its id, its tokenizer and chat template (text ↔ token ids happen
/// here, never in the cluster), and what its config.json says about limits.
/// </summary>
public sealed class ServedModel
{
    /// <summary>
    /// The demo-model marker: <c>"dsmesh_random_weights": true</c> at the top level of config.json
    /// says the weights are random (a checkpoint written by <c>dsmesh init-model</c>); the model
    /// object then carries <c>"random_weights": true</c>.
    /// </summary>
    public const string RandomWeightsField = "dsmesh_random_weights";

    public required string Id { get; init; }
    public required string Directory { get; init; }
    public required TextCodec Codec { get; init; }
    public required int ContextLength { get; init; }
    public required int VocabSize { get; init; }
    public bool RandomWeights { get; init; }
    public long Created { get; init; }

    public static ServedModel Load(string directory, string? id = null)
    {
        directory = Path.GetFullPath(directory);
        var configPath = Path.Combine(directory, "config.json");
        var config = ReadConfig(configPath);
        if (!TextCodec.Exists(directory))
            throw new FileNotFoundException($"{Path.Combine(directory, "tokenizer.json")}: not found (the gateway tokenizes; the model directory needs tokenizer.json and tokenizer_config.json)");
        var codec = TextCodec.FromDirectory(directory);
        bool random = config[RandomWeightsField] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        return new ServedModel
        {
            Id = id ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)),
            Directory = directory,
            Codec = codec,
            ContextLength = PositiveInt(config, "max_position_embeddings", configPath),
            VocabSize = PositiveInt(config, "vocab_size", configPath),
            RandomWeights = random,
            Created = new DateTimeOffset(File.GetLastWriteTimeUtc(configPath)).ToUnixTimeSeconds(),
        };
    }

    /// <summary>config.json as a JSON object (the silos validate the architecture; the gateway reads only its limits).</summary>
    static JsonObject ReadConfig(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found (a HuggingFace model directory needs config.json)");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: invalid JSON: {e.Message}");
        }
    }

    static int PositiveInt(JsonObject config, string field, string path) => config[field] switch
    {
        null => throw new FormatException($"{path}: {field}: missing"),
        JsonValue v when v.TryGetValue<int>(out var i) && i > 0 => i,
        var other => throw new FormatException($"{path}: {field}: expected a positive integer, got {other.ToJsonString()}"),
    };
}
