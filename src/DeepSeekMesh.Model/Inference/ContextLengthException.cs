namespace DeepSeekMesh.Model.Inference;

/// <summary>A sequence would grow past the model's context window.</summary>
public sealed class ContextLengthException(int requested, int maximum)
    : Exception($"sequence of {requested} tokens exceeds the model's context length of {maximum} (max_position_embeddings)")
{
    public int Requested { get; } = requested;
    public int Maximum { get; } = maximum;
}
