using System.Text.Json;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>The repository's tokenizer and conformance vectors (<see cref="RepoPaths"/>), loaded once.</summary>
internal static class RepoFiles
{
    private static readonly Lazy<Tokenizer> LoadedTokenizer = new(() => Tokenizer.FromDirectory(TokenizerDir));
    private static readonly Lazy<JsonDocument> LoadedVectors = new(() => JsonDocument.Parse(File.ReadAllBytes(VectorsPath)));

    public static string Root => RepoPaths.Root;

    public static string TokenizerDir => RepoPaths.TokenizerDirectory;

    public static string VectorsPath => Path.Combine(RepoPaths.Conformance, "tokenizer", "vectors.json");

    /// <summary>The real DeepSeek-V3 tokenizer, loaded once for all tests.</summary>
    public static Tokenizer DeepSeek => LoadedTokenizer.Value;

    public static JsonElement Vectors => LoadedVectors.Value.RootElement;
}
