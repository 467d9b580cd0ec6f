using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// The sequences of a batch whose caches share one <see cref="LatentCachePool"/> (all of them in the
/// engine; one each for standalone caches), with the pool rows every layer writes and reads, computed
/// once per step: each layer writes the group's new latents with one index_copy and gathers its
/// sequences' cached positions with one index_select, padded to the longest.
/// </summary>
public sealed class CacheGroup : IDisposable
{
    public required LatentCachePool Pool { get; init; }
    /// <summary>The group's sequences, in batch order; their rows follow each other in that order.</summary>
    public required IReadOnlyList<SequenceSlice> Sequences { get; init; }
    /// <summary>How many of the first sequences decode one token each (batched into one attention computation).</summary>
    public required int Decoding { get; init; }
    /// <summary>The batch rows of this group ([Tg] int64), or null when the group is the whole batch.</summary>
    public required Tensor? Rows { get; init; }
    public required Tensor WriteRows { get; init; }  // [Tg] int64: pool row of each new position
    public required Tensor ReadRows { get; init; }   // [Sg, L] int64: pool rows of each sequence's positions [0, End), padded with row 0
    public required Tensor Padding { get; init; }    // [Sg, L] bool: true at padded positions (at and after the sequence's End)
    public required int Length { get; init; }        // L: the longest sequence's End

    public void Dispose()
    {
        Rows?.Dispose();
        WriteRows.Dispose();
        ReadRows.Dispose();
        Padding.Dispose();
    }
}
