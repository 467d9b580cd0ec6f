namespace DeepSeekMesh.Tokenizers;

/// <summary>An entry of tokenizer.json <c>added_tokens</c>.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);
