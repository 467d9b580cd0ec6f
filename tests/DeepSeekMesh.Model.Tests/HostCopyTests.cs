using DeepSeekMesh.Model.Inference;

namespace DeepSeekMesh.Model.Tests;

/// <summary>
/// Host↔device copies per decode step (each a synchronisation on a GPU) are a fixed number: the
/// batch's index tensors and one copy of the expert grouping per MoE layer, whatever the batch size
/// or how many experts the tokens chose. Fails when a per-sequence or per-expert copy creeps in.
/// </summary>
public sealed class HostCopyTests
{
    static readonly string Case = Path.Combine(RepoPaths.Conformance, "tiny-a");

    [Fact]
    public void ADecodeStepCopiesAFixedNumberOfTimesWhateverTheBatch()
    {
        using var model = Transformer.Load(Case);
        var c = model.Config;
        int moeLayers = Enumerable.Range(0, c.NumHiddenLayers).Count(c.IsMoeLayer);
        Assert.True(moeLayers > 0);
        using var pool = new LatentCachePool(c, model.Options, blocks: 64); // one pool, as in the engine
        var caches = Enumerable.Range(0, 5).Select(_ => new LatentCache(pool, c)).ToArray();
        try
        {
            for (int s = 0; s < caches.Length; s++) Step(model, [(caches[s], new[] { 5 + s, 9, 300 + s, 17 })]); // prefill each

            const int batchTensors = 3 + 3; // tokens, positions, last rows; the group's write rows, read rows, padding
            long single = Step(model, [(caches[0], new[] { 11 })]);
            long four = Step(model, caches[1..].Select((cache, i) => (cache, new[] { 40 + i })).ToArray());
            Assert.Equal(batchTensors + moeLayers, single);
            Assert.Equal(single, four);
        }
        finally
        {
            foreach (var cache in caches) cache.Dispose();
        }
    }

    /// <summary>Host copies made by building the batch and running the forward pass.</summary>
    static long Step(Transformer model, (LatentCache Cache, int[] Tokens)[] sequences)
    {
        long before = TensorData.Copies;
        using var batch = new ForwardBatch(sequences.Select(s => (s.Cache, (IReadOnlyList<int>)s.Tokens)).ToArray(), model.Options.Device);
        using var logits = model.Forward(batch);
        return TensorData.Copies - before;
    }
}
