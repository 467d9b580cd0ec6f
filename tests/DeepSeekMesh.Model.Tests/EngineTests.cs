using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Tests;

/// <summary>Continuous batching computes what each sequence computes alone, and admission control holds.</summary>
public sealed class EngineTests : IDisposable
{
    readonly Transformer _model;
    readonly OfflineEngine _solo;

    public EngineTests()
    {
        _model = Transformer.Load(Path.Combine(RepoPaths.Conformance, "tiny-a"));
        _solo = new OfflineEngine(_model);
    }

    public void Dispose()
    {
        _solo.Dispose();
        _model.Dispose();
    }

    static async Task<List<SampledToken>> Collect(IAsyncEnumerable<SampledToken> tokens)
    {
        var list = new List<SampledToken>();
        await foreach (var t in tokens) list.Add(t);
        return list;
    }

    int[] Solo(int[] prompt, SamplingParams sampling) =>
        _solo.Generate([new EngineRequest(prompt, sampling)]).Results[0].Tokens.Select(t => t.TokenId).ToArray();

    static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => (i * 37 + salt * 11) % 500 + 2).ToArray();

    [Fact]
    public async Task JsonRequestsAreMaskedOnTheEngineThreadAndEndAtTheCompletingToken()
    {
        // A byte vocabulary: token 256 + b is byte b, token 1 is EOS, the rest never text.
        var vocabulary = new Sampling.Structured.TokenVocabulary(_model.Config.VocabSize, id => id >= 256 ? [(byte)(id - 256)] : null, [1]);
        var json = new SamplingParams { Temperature = 1f, Seed = 5, MaxTokens = 40, JsonSchema = """{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}""" };
        await using (var without = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64 }))
            Assert.Equal("response_format", Assert.Throws<SamplingParamsException>(() => without.GenerateAsync(new EngineRequest(Prompt(5, 1), json))).ParameterName);
        await using var engine = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 64 }, () => vocabulary);
        Assert.Equal("max_tokens", Assert.Throws<SamplingParamsException>(() => engine.GenerateAsync(new EngineRequest(Prompt(5, 1), json with { MaxTokens = 6 }))).ParameterName);
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Collect(engine.GenerateAsync(new EngineRequest(Prompt(5, i), json with { Seed = (ulong)i })))));
        foreach (var tokens in runs)
        {
            var text = System.Text.Encoding.UTF8.GetString(tokens.Select(t => (byte)(t.TokenId - 256)).ToArray());
            Assert.All(tokens, t => Assert.InRange(t.TokenId, 256, 511));
            Assert.Equal(FinishReason.Stop, tokens[^1].FinishReason);
            using var document = System.Text.Json.JsonDocument.Parse(text);
            Assert.Equal(System.Text.Json.JsonValueKind.Number, document.RootElement.GetProperty("n").ValueKind);
        }
    }

    [Fact]
    public async Task ConcurrentRequestsWithDifferentSettingsEqualTheirSoloRuns()
    {
        await using var engine = new InferenceEngine(_model, new EngineOptions { MaxBatchTokens = 8, CacheBlocks = 64 });
        var cases = Enumerable.Range(0, 8).Select(i => (
            Prompt: Prompt(3 + i * 3, i),
            Sampling: i % 2 == 0
                ? SamplingParams.Greedy with { MaxTokens = 5 + i, IgnoreEos = true }
                : new SamplingParams { Temperature = 0.9f, TopP = 0.95f, Seed = (ulong)(100 + i), MaxTokens = 5 + i, IgnoreEos = true })).ToArray();
        var runs = cases.Select(c => Collect(engine.GenerateAsync(new EngineRequest(c.Prompt, c.Sampling)))).ToArray();
        var results = await Task.WhenAll(runs);
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.Equal(Solo(cases[i].Prompt, cases[i].Sampling), results[i].Select(t => t.TokenId));
            Assert.Equal(FinishReason.Length, results[i][^1].FinishReason);
        }
        Assert.True(engine.Stats.StepsRun < cases.Sum(c => c.Sampling.MaxTokens!.Value), "sequences shared steps");
    }

    [Fact]
    public async Task RequestThatCanNeverFitIsRefusedAndOthersWaitForBlocks()
    {
        await using var engine = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 4, BlockSize = 16 });
        var tooBig = Assert.Throws<RequestTooLargeException>(() => engine.GenerateAsync(new EngineRequest(Prompt(40, 1), SamplingParams.Greedy with { MaxTokens = 40 })));
        Assert.Contains("5 KV cache blocks; the whole cache has 4", tooBig.Message);
        Assert.Throws<RequestTooLargeException>(() => engine.GenerateAsync(new EngineRequest(Prompt(10, 1), SamplingParams.Greedy with { MaxTokens = 1000 })));

        // Each needs 3 of the 4 blocks: they must run one after another, and all complete.
        var sampling = SamplingParams.Greedy with { MaxTokens = 20, IgnoreEos = true };
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Collect(engine.GenerateAsync(new EngineRequest(Prompt(20, i), sampling)))));
        for (int i = 0; i < 3; i++) Assert.Equal(Solo(Prompt(20, i), sampling), results[i].Select(t => t.TokenId));
        Assert.Equal(0, engine.Stats.CacheBlocksUsed);
    }

    [Fact]
    public async Task FullWaitingQueueIsRefused()
    {
        await using var engine = new InferenceEngine(_model, new EngineOptions { MaxRunningSequences = 1, MaxWaitingRequests = 2 });
        var endless = SamplingParams.Greedy with { MaxTokens = 200, IgnoreEos = true };
        using var cts = new CancellationTokenSource();
        var first = Collect(engine.GenerateAsync(new EngineRequest(Prompt(4, 0), endless), cts.Token));
        while (engine.Stats.Running == 0) await Task.Delay(5);
        var queued = Enumerable.Range(1, 2).Select(i => engine.GenerateAsync(new EngineRequest(Prompt(4, i), endless), cts.Token)).ToList();
        Assert.Throws<EngineOverloadedException>(() => engine.GenerateAsync(new EngineRequest(Prompt(4, 3), endless)));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
    }

    [Fact]
    public async Task LeavingEarlyFreesTheCache()
    {
        await using var engine = new InferenceEngine(_model, new EngineOptions { CacheBlocks = 16 });
        int seen = 0;
        await foreach (var _ in engine.GenerateAsync(new EngineRequest(Prompt(8, 2), SamplingParams.Greedy with { MaxTokens = 100, IgnoreEos = true })))
            if (++seen == 3) break;
        for (int i = 0; i < 200 && engine.Stats.CacheBlocksUsed > 0; i++) await Task.Delay(10);
        Assert.Equal(0, engine.Stats.CacheBlocksUsed);
        Assert.Equal(0, engine.Stats.Running);
    }

    [Fact]
    public async Task InvalidSamplingIsRefusedAtSubmission()
    {
        await using var engine = new InferenceEngine(_model);
        Assert.Throws<SamplingParamsException>(() => engine.GenerateAsync(new EngineRequest([1, 2], new SamplingParams { TopP = 0 })));
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new EngineRequest([], SamplingParams.Greedy)));
    }
}
