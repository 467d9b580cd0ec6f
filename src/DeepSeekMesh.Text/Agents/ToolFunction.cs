namespace DeepSeekMesh.Text.Agents;

/// <summary>A function the model may call: OpenAI's <c>tools[i].function</c>, its JSON schema kept as compact JSON text.</summary>
public sealed record ToolFunction(string Name, string? Description, string? ParametersJson);
