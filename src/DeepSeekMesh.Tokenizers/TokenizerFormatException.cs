namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Thrown when a tokenizer file is missing, malformed or uses a feature this implementation does not support.
/// The message always names the file and the JSON field involved.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string filePath, string field, string problem, Exception? inner = null)
        : base($"{Path.GetFileName(filePath)}: field '{field}': {problem} (file: {filePath})", inner)
    {
        FilePath = filePath;
        Field = field;
    }

    /// <summary>Full path of the offending file.</summary>
    public string FilePath { get; }

    /// <summary>JSON path of the offending field, e.g. <c>model.type</c>.</summary>
    public string Field { get; }
}
