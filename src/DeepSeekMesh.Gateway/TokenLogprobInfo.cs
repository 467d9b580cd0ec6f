namespace DeepSeekMesh.Gateway;

/// <summary>One generated token's logprob information, with its text.</summary>
public sealed record TokenLogprobInfo(int TokenId, string Token, byte[] Bytes, float Logprob, IReadOnlyList<(string Token, byte[] Bytes, float Logprob)> Top);
