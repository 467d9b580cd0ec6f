using System.Text;
using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>A legacy completion's events as <c>text_completion</c> objects: chunks with echo and text offsets (SSE), the whole response (JSON).</summary>
public sealed class ServingText(ServingStream stream)
{
    readonly int[] _offsets = new int[stream.Job.Choices];
    GenerationJob Job => stream.Job;

    CompletionResponse Response(UsageField usage, params CompletionChoice[] choices) => new(stream.Id, stream.Created, stream.Model, choices, usage);

    /// <summary>SSE: the delta (after the echoed prompt on a choice's first chunk) with its logprobs and text offset; null when there is nothing to say.</summary>
    public CompletionResponse? Chunk(ChoiceDelta delta)
    {
        var e = delta.Choice;
        var text = Job.Echo && delta.First ? Job.Prompts[e.Index / Job.N].EchoText + e.Text : e.Text;
        int offset = _offsets[e.Index];
        _offsets[e.Index] += text.Length;
        var logprobs = e.Logprob is null ? null : CompletionLogprobs.From([(e.Logprob.Token, e.Logprob)], offset);
        return text.Length > 0 || logprobs is not null || e.FinishReason is not null
            ? Response(UsageField.For(Job.IncludeUsage), new CompletionChoice(e.Index, text, logprobs, e.FinishReason))
            : null;
    }

    /// <summary>The usage chunk: no choices.</summary>
    public CompletionResponse UsageChunk(Usage usage) => Response(UsageField.For(true, usage));

    public CompletionResponse Response(IReadOnlyList<ChoiceResult> choices) =>
        Response(UsageField.For(true, Usage.Of(Job, choices.Sum(c => c.CompletionTokens), i => choices[i].CachedTokens)), choices.Select(Choice).ToArray());

    CompletionChoice Choice(ChoiceResult c)
    {
        var prompt = Job.Prompts[c.Index / Job.N];
        var text = Job.Echo ? prompt.EchoText + c.Text : c.Text.ToString();
        CompletionLogprobs? logprobs = null;
        if (Job.Logprobs is not null)
        {
            var tokenizer = Job.Model.Codec.Tokenizer;
            var tokens = new List<(string, TokenLogprobInfo?)>();
            if (Job.Echo)
                foreach (var id in prompt.Ids) tokens.Add((Encoding.UTF8.GetString(tokenizer.GetTokenBytes(id)), null));
            tokens.AddRange(c.Logprobs.Select(t => (t.Token, (TokenLogprobInfo?)t)));
            logprobs = CompletionLogprobs.From(tokens, 0);
        }
        return new CompletionChoice(c.Index, text, logprobs, c.FinishReason);
    }
}
