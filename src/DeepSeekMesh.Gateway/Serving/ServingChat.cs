using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>A chat completion's events as OpenAI's objects: chunks (SSE, WebSocket), the whole response (JSON), the WebSocket's done message.</summary>
public sealed class ServingChat(ServingStream stream)
{
    ChatCompletionChunk Chunk(UsageField usage, params ChatChunkChoice[] choices) => new(stream.Id, stream.Created, stream.Model, choices, usage);

    UsageField NoUsageYet => UsageField.For(stream.Job.IncludeUsage);

    /// <summary>
    /// SSE: the role first (empty content), then the content, reasoning and logprobs, then each completed tool
    /// call as two chunks (id, type and name; then its arguments), then the finish reason, each its own chunk.
    /// </summary>
    public IEnumerable<ChatCompletionChunk> SseChunks(ChoiceDelta delta)
    {
        var e = delta.Choice;
        if (delta.First) yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta("assistant", ""), null, null));
        if (e.Text.Length > 0 || e.Reasoning.Length > 0 || e.Logprob is not null)
            yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, TextDelta(e, null), Logprobs(e), null));
        foreach (var call in e.ToolCalls)
        {
            yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta(null, null) { ToolCalls = [ChatToolCallDelta.Start(call)] }, null, null));
            yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta(null, null) { ToolCalls = [ChatToolCallDelta.Arguments(call)] }, null, null));
        }
        if (e.FinishReason is not null) yield return Chunk(NoUsageYet, new ChatChunkChoice(e.Index, new ChatDelta(null, null), null, e.FinishReason));
    }

    /// <summary>WebSocket: one chunk per delta (the first with the role, tool calls whole); finish reasons come with <see cref="Done"/>.</summary>
    public ChatCompletionChunk? WebSocketChunk(ChoiceDelta delta)
    {
        var e = delta.Choice;
        if (!delta.First && e.Text.Length == 0 && e.Reasoning.Length == 0 && e.Logprob is null && e.ToolCalls.Count == 0) return null;
        var text = TextDelta(e, delta.First ? "assistant" : null);
        if (e.ToolCalls.Count > 0) text = text with { ToolCalls = e.ToolCalls.Select(ChatToolCallDelta.Whole).ToArray() };
        return Chunk(default, new ChatChunkChoice(e.Index, text, Logprobs(e), null));
    }

    /// <summary>The delta's content and reasoning: content is left out of a reasoning-only delta.</summary>
    static ChatDelta TextDelta(ChoiceEvent e, string? role) =>
        new(role, e.Text.Length > 0 || e.Reasoning.Length == 0 ? e.Text : null) { ReasoningContent = e.Reasoning.Length > 0 ? e.Reasoning : null };

    /// <summary>The usage chunk: no choices.</summary>
    public ChatCompletionChunk UsageChunk(Usage usage) => Chunk(UsageField.For(true, usage));

    public ChatCompletionDone Done(IReadOnlyList<string?> finishReasons, Usage usage) =>
        new(stream.Id, stream.Created, stream.Model, finishReasons.Select((f, i) => new ChoiceFinish(i, f ?? "stop")).ToArray(), usage);

    public ChatCompletionResponse Response(IReadOnlyList<ChoiceResult> choices) => new(stream.Id, stream.Created, stream.Model,
        choices.Select(c => new ChatChoice(c.Index, Message(c), stream.Job.Logprobs is null ? null : ChatLogprobs.From(c.Logprobs), c.FinishReason)).ToArray(),
        Usage.Of(stream.Job, choices.Sum(c => c.CompletionTokens), i => choices[i].CachedTokens));

    /// <summary>A choice's message; with parsing on, empty content and empty reasoning are null (as vLLM writes them).</summary>
    AssistantMessage Message(ChoiceResult c)
    {
        var content = c.Text.ToString();
        if (stream.Job.Parsing is not { } parsing) return new AssistantMessage(content);
        return new AssistantMessage(content.Length == 0 && (c.ToolCalls.Count > 0 || parsing.Reasoning) ? null : content)
        {
            ReasoningContent = c.Reasoning.Length > 0 ? c.Reasoning.ToString() : null,
            ToolCalls = c.ToolCalls.Count > 0 ? c.ToolCalls.Select(ChatToolCall.From).ToArray() : null,
        };
    }

    static ChatLogprobs? Logprobs(ChoiceEvent e) => e.Logprob is null ? null : ChatLogprobs.From([e.Logprob]);
}
