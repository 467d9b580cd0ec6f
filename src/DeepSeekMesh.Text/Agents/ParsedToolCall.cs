namespace DeepSeekMesh.Text.Agents;

/// <summary>One complete tool call found in the model's output: <paramref name="Arguments"/> is valid JSON text.</summary>
/// <param name="Index">The call's position among the choice's calls (0, 1, …), as OpenAI's stream indexes them.</param>
public sealed record ParsedToolCall(int Index, string Id, string Name, string Arguments)
{
    /// <summary>OpenAI's only tool type.</summary>
    public string Type => "function";
}
