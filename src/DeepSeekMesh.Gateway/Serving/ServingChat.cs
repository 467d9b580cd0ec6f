using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>A chat completion's events as OpenAI's objects: chunks (SSE, WebSocket), the whole response (JSON), the WebSocket's done message.</summary>
public sealed class ServingChat(ServingStream stream)
{
    ChatCompletionChunk Chunk(UsageField usage, params ChatChunkChoice[] choices) => new(stream.Id, stream.Created, stream.Model, choices, usage);

    UsageField NoUsageYet => UsageField.For(stream.Job.IncludeUsage);

    /// <summary>SSE: the role first (empty content), then the content and logprobs, then the finish reason, each its own chunk.</summary>
    public IEnumerable<ChatCompletionChunk> SseChunks(ChoiceDelta delta)
    {
        var e = delta.Choice;
        if (delta.First) yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta("assistant", ""), null, null));
        if (e.Text.Length > 0 || e.Logprob is not null) yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta(null, e.Text), Logprobs(e), null));
        if (e.FinishReason is not null) yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta(null, null), null, e.FinishReason));
    }

    /// <summary>WebSocket: one chunk per delta (the first with the role); finish reasons come with <see cref="Done"/>.</summary>
    public ChatCompletionChunk? WebSocketChunk(ChoiceDelta delta)
    {
        var e = delta.Choice;
        return delta.First || e.Text.Length > 0 || e.Logprob is not null
            ? Chunk(default, new ChatChunkChoice(e.Index, new ChatDelta(delta.First ? "assistant" : null, e.Text), Logprobs(e), null))
            : null;
    }

    /// <summary>The usage chunk: no choices.</summary>
    public ChatCompletionChunk UsageChunk(Usage usage) => Chunk(UsageField.For(true, usage));

    public ChatCompletionDone Done(IReadOnlyList<string?> finishReasons, Usage usage) =>
        new(stream.Id, stream.Created, stream.Model, finishReasons.Select((f, i) => new ChoiceFinish(i, f ?? "stop")).ToArray(), usage);

    public ChatCompletionResponse Response(IReadOnlyList<ChoiceResult> choices) => new(stream.Id, stream.Created, stream.Model,
        choices.Select(c => new ChatChoice(c.Index, new AssistantMessage(c.Text.ToString()),
            stream.Job.Logprobs is null ? null : ChatLogprobs.From(c.Logprobs), c.FinishReason)).ToArray(),
        Usage.Of(stream.Job, choices.Sum(c => c.CompletionTokens), i => choices[i].CachedTokens));

    static ChatLogprobs? Logprobs(ChoiceEvent e) => e.Logprob is null ? null : ChatLogprobs.From([e.Logprob]);
}
