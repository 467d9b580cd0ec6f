using System.Diagnostics;
using System.Threading.Channels;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Engine;

/// <summary>One request inside the engine: its cache, sampler, prefill progress and output channel.</summary>
internal sealed class EngineSequence(EngineRequest request, Sampler sampler, LatentCache cache, int blocksNeeded)
{
    public EngineRequest Request { get; } = request;
    public Sampler Sampler { get; } = sampler;
    public LatentCache Cache { get; } = cache;
    public int BlocksNeeded { get; } = blocksNeeded;
    /// <summary>The trace of the request that queued this sequence (engine steps that run it continue it).</summary>
    public ActivityContext Origin { get; } = Activity.Current?.Context ?? default;
    public Channel<SampledToken> Output { get; } = Channel.CreateUnbounded<SampledToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>The prompt and then every sampled token: what the cache's positions hold, and what its full blocks are hashed by.</summary>
    public List<int> Tokens { get; } = [.. request.Prompt];
    /// <summary>Prompt tokens read from the prefix cache at admission (not computed).</summary>
    public int CachedTokens { get; set; }
    /// <summary>Prompt tokens already prefilled (cached ones included).</summary>
    public int Prefilled { get; set; }
    public bool Prefilling => Prefilled < Request.Prompt.Count;
    public int LastToken { get; set; } = -1;
    /// <summary>Who sees this sequence's tokens on the engine thread, and this sequence's index in that caller's batch.</summary>
    public TokenObserver? Observer { get; init; }
    public int Index { get; init; }
    /// <summary>Where the output stands in its JSON response format's grammar; null: free text.</summary>
    public Sampling.Structured.GrammarMatcher? Grammar { get; init; }
    public volatile bool Cancelled;

    /// <summary>The next tokens to feed: a prefill chunk of at most <paramref name="budget"/>, or the last sampled token.</summary>
    public IReadOnlyList<int> NextInput(int budget)
    {
        if (!Prefilling) return [LastToken];
        int count = Math.Min(budget, Request.Prompt.Count - Prefilled);
        return Request.Prompt.Skip(Prefilled).Take(count).ToArray();
    }
}
