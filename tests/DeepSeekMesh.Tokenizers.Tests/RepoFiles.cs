using System.Text.Json;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>Locates files in the repository by walking up from the test binaries to DeepSeekMesh.sln.</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> s_root = new(FindRoot);
    private static readonly Lazy<Tokenizer> s_tokenizer = new(() => Tokenizer.FromDirectory(TokenizerDir));
    private static readonly Lazy<JsonDocument> s_vectors = new(() => JsonDocument.Parse(File.ReadAllBytes(VectorsPath)));

    public static string Root => s_root.Value;

    public static string TokenizerDir => Path.Combine(Root, "assets", "tokenizer", "deepseek-v3");

    public static string VectorsPath => Path.Combine(Root, "tests", "conformance", "tokenizer", "vectors.json");

    /// <summary>The real DeepSeek-V3 tokenizer, loaded once for all tests.</summary>
    public static Tokenizer DeepSeek => s_tokenizer.Value;

    public static JsonElement Vectors => s_vectors.Value.RootElement;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeepSeekMesh.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"DeepSeekMesh.sln not found above {AppContext.BaseDirectory}");
    }
}
