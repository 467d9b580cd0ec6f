namespace DeepSeekMesh.Contracts;

/// <summary>A completion request refused by the frontend; crosses the wire with its reason.</summary>
[GenerateSerializer, Alias("dsm.CompletionRejectedException")]
public sealed class CompletionRejectedException : Exception
{
    public CompletionRejectedException(CompletionRejection reason, string message, string? parameter = null) : base(message)
    {
        Reason = reason;
        Parameter = parameter;
    }

    [Id(0)] public CompletionRejection Reason { get; private set; }
    /// <summary>The OpenAI/vLLM name of the invalid parameter (e.g. <c>top_p</c>), when there is one.</summary>
    [Id(1)] public string? Parameter { get; private set; }
}
