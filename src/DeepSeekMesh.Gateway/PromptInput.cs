namespace DeepSeekMesh.Gateway;

/// <summary>One prompt, tokenized, and the text to echo for it (legacy completions).</summary>
public sealed record PromptInput(int[] Ids, string EchoText);
