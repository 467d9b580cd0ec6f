using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Gateway;

/// <summary>A validated, tokenized request: what the gateway asks the cluster for, and how to render the answer.</summary>
public sealed class GenerationJob
{
    public required ServedModel Model { get; init; }
    public required IReadOnlyList<PromptInput> Prompts { get; init; }
    public required SamplingParams Sampling { get; init; }
    public int N { get; init; } = 1;
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    /// <summary>Null: no logprobs. Otherwise the number of top alternatives per token (0 = the chosen token only).</summary>
    public int? Logprobs { get; init; }
    public bool Echo { get; init; }
    public bool SkipSpecialTokens { get; init; } = true;
    /// <summary>Chat only: reasoning and tool-call parsing of the output; null: the text as generated.</summary>
    public Serving.ChatParsing? Parsing { get; init; }
    public int Choices => Prompts.Count * N;

    public int PromptTokens => Prompts.Sum(p => p.Ids.Length);

    /// <summary>
    /// Prompt tokens read from prefix caches, counted once per prompt as <see cref="PromptTokens"/> is: per prompt,
    /// the most any of its choices reused (<paramref name="cachedOfChoice"/>: by choice index).
    /// </summary>
    public int CachedPromptTokens(Func<int, int> cachedOfChoice) =>
        Enumerable.Range(0, Prompts.Count).Sum(p => Enumerable.Range(p * N, N).Max(cachedOfChoice));

    /// <summary>Tokens charged against a tokens-per-minute limit: every choice's prompt plus its max_tokens.</summary>
    public long ChargedTokens => (long)N * Prompts.Sum(p => (long)p.Ids.Length + (Sampling.MaxTokens ?? 0));

    /// <summary>The sampling parameters of choice <paramref name="choice"/>: each choice gets its own seed (seed + choice).</summary>
    public SamplingParams SamplingFor(int choice) =>
        choice == 0 || Sampling.Seed is null ? Sampling : Sampling with { Seed = unchecked(Sampling.Seed.Value + (ulong)choice) };
}
