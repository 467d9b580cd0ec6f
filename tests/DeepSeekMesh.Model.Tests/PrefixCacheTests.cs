using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Tests;

/// <summary>
/// Automatic prefix caching: a request reuses the cached blocks of its longest cached prompt prefix,
/// computes what it computes with the cache off, reports the reuse on its first token, and cached
/// blocks are reference-counted and evicted least recently used.
/// <para>
/// "The same": the same tokens (greedy and seeded sampling), and logits within 1e-5 — the tolerance
/// <see cref="BatchTests"/> allows between a batched and a solo run. Bit equality is not attainable on
/// CPU: the reused latents are exact, but the rest of the prompt is a shorter GEMM than the whole prompt,
/// and libtorch's f32 GEMM rounds a row differently when it has ≤ 16 rows (measured: F.linear rows of
/// M ≤ 9 vs M ≥ 17 differ by up to 6e-5 at k = 1024); the experts' row counts change the same way.
/// </para>
/// </summary>
public sealed class PrefixCacheTests : IDisposable
{
    static readonly string Case = Path.Combine(RepoPaths.Conformance, "tiny-a");
    readonly Transformer _model = Transformer.Load(Case);

    public void Dispose() => _model.Dispose();

    static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => (i * 37 + salt * 11) % 500 + 2).ToArray();

    static int[] Concat(params int[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>One request's tokens and the logits each was sampled from.</summary>
    static async Task<(List<SampledToken> Tokens, List<float[]> Logits)> Run(InferenceEngine engine, int[] prompt, SamplingParams sampling)
    {
        var logits = new List<float[]>();
        var stream = engine.GenerateAsync([new EngineRequest(prompt, sampling)], (_, _, row) => { logits.Add(row.ToArray()); return true; })[0];
        var tokens = new List<SampledToken>();
        await foreach (var t in stream) tokens.Add(t);
        return (tokens, logits);
    }

    static void AssertSameOutputs((List<SampledToken> Tokens, List<float[]> Logits) expected, (List<SampledToken> Tokens, List<float[]> Logits) actual)
    {
        Assert.Equal(expected.Tokens.Select(t => t.TokenId), actual.Tokens.Select(t => t.TokenId));
        Assert.Equal(expected.Logits.Count, actual.Logits.Count);
        for (int i = 0; i < expected.Logits.Count; i++) Logits.AssertClose(expected.Logits[i], actual.Logits[i], 1e-5, $"token {i}");
    }

    public static TheoryData<int, int> Shapes => new()
    {
        { 40, 9 },  // 2 cached blocks, a 17-token rest
        { 48, 2 },  // 3 cached blocks, 2 to compute
        { 32, 1 },  // 2 cached blocks, only the last prompt token to compute
        { 16, 0 },  // the same 16-token prompt again: its only block holds the last token, so nothing is reused
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task SharedPrefixIsReusedAndOutputsEqualTheCacheOff(int shared, int rest)
    {
        var prefix = Prompt(shared, 1);
        int[] first = Concat(prefix, Prompt(5, 2)), second = Concat(prefix, Prompt(rest, 3));
        await using var on = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64 });
        await using var off = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64, EnablePrefixCaching = false });
        bool again = false; // the second pass finds all of `second` cached by the first
        foreach (var sampling in new[]
        {
            SamplingParams.Greedy with { MaxTokens = 12, IgnoreEos = true },
            new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 5, MaxTokens = 12, IgnoreEos = true },
        })
        {
            var warm = await Run(on, first, sampling);
            var cached = await Run(on, second, sampling);
            var computed = await Run(off, second, sampling);
            int expected = (again ? second.Length - 1 : Math.Min(shared, second.Length - 1)) / 16 * 16;
            again = true;
            Assert.Equal(expected, cached.Tokens[0].CachedPromptTokens);
            Assert.All(cached.Tokens.Skip(1), t => Assert.Equal(0, t.CachedPromptTokens));
            Assert.Equal(0, computed.Tokens[0].CachedPromptTokens);
            AssertSameOutputs(computed, cached);
            AssertSameOutputs(await Run(off, first, sampling), warm);
        }
        Assert.Equal(0, on.Stats.CacheBlocksUsed);
        Assert.True(on.Stats.CacheBlocksCached > 0);
        Assert.Equal(0, off.Stats.CacheBlocksCached);
        Assert.Equal(0, off.Stats.CachedPromptTokens);
    }

    [Fact]
    public async Task GeneratedTokensAreCachedForTheNextTurn()
    {
        await using var on = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64 });
        await using var off = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64, EnablePrefixCaching = false });
        var sampling = SamplingParams.Greedy with { MaxTokens = 30, IgnoreEos = true };
        var prompt = Prompt(20, 4);
        var answer = await Run(on, prompt, sampling);
        // The next turn: the whole conversation so far (20 + 30 tokens, of which 49 are in the cache: 3 full blocks) and a new question.
        var next = Concat(prompt, answer.Tokens.Select(t => t.TokenId).ToArray(), Prompt(7, 5));
        var cached = await Run(on, next, sampling);
        Assert.Equal(48, cached.Tokens[0].CachedPromptTokens);
        AssertSameOutputs(await Run(off, next, sampling), cached);
    }

    [Fact]
    public async Task ConcurrentRequestsShareBlocksWhileBothHoldThem()
    {
        await using var engine = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64 });
        var prefix = Prompt(64, 6);
        var endless = SamplingParams.Greedy with { MaxTokens = 100, IgnoreEos = true };
        using var cts = new CancellationTokenSource();
        await using var first = engine.GenerateAsync(new EngineRequest(Concat(prefix, [7]), endless), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await first.MoveNextAsync()); // its prompt blocks are cached now, and it holds them
        int used = engine.Stats.CacheBlocksUsed; // ceil(165 / 16) = 11
        await using var second = engine.GenerateAsync(new EngineRequest(Concat(prefix, [8]), endless), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await second.MoveNextAsync());
        Assert.Equal(64, second.Current.CachedPromptTokens);
        Assert.Equal(used + 11 - 4, engine.Stats.CacheBlocksUsed); // the 4 prefix blocks are held by both
        cts.Cancel();
    }

    [Fact]
    public void FreeCachedBlocksCountAsFreeAndAreEvictedLeastRecentlyUsedFirst()
    {
        var config = ModelConfig.Load(Case);
        using var pool = new LatentCachePool(config, new ModelOptions(), blocks: 4, blockSize: 4, prefixCaching: true);
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9], b = [11, 12, 13, 14, 15, 16, 17, 18, 19];
        using (var first = new LatentCache(pool, config)) // 2 full blocks of a, cached, then released
        {
            Assert.True(first.TryAdmit(a, 9, out int none));
            Assert.Equal(0, none);
            first.Commit(8);
            first.CacheFullBlocks(a);
        }
        using (var second = new LatentCache(pool, config)) // b's 2 blocks are cached after a's
        {
            Assert.True(second.TryAdmit(b, 8, out _));
            second.Commit(8);
            second.CacheFullBlocks(b);
        }
        Assert.Equal((4, 4), (pool.FreeBlocks, pool.CachedBlocks));

        using var again = new LatentCache(pool, config); // a again: both blocks reused, one fresh block
        Assert.True(again.TryAdmit(a, 12, out int cached));
        Assert.Equal(8, cached);
        Assert.Equal(1, pool.FreeBlocks); // one of b's blocks was evicted for the fresh one
        using var other = new LatentCache(pool, config);
        Assert.False(other.TryAdmit([30, 31, 32, 33, 34, 35, 36, 37, 38], 12, out _)); // 3 blocks needed, 1 free: nothing changes
        Assert.Equal(1, pool.FreeBlocks);
        Assert.True(other.TryAdmit(b, 4, out int partly)); // b's first block survived (its tail block went first)
        Assert.Equal(4, partly);
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Throws<InvalidOperationException>(() => again.Reserve(0, 1)); // a cached block is never written again
    }
}
