namespace DeepSeekMesh.Text.Agents;

/// <summary>What a piece of generated text added to the reasoning (inside <c>&lt;think&gt;…&lt;/think&gt;</c>) and to the answer.</summary>
public readonly record struct ReasoningDelta(string Reasoning, string Content);
