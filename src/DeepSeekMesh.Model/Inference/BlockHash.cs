using System.Buffers.Binary;
using System.Security.Cryptography;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// The identity of a full cache block for prefix caching: SHA-256 (first 128 bits) of the parent
/// block's hash and this block's token ids, so it names the block's tokens AND every token before
/// them (vLLM's chained block hash). Two blocks with equal hashes hold equal latents and k_pe.
/// </summary>
public readonly record struct BlockHash(UInt128 Value)
{
    /// <summary>The hash of a block holding <paramref name="tokens"/> after the block <paramref name="parent"/> (null: the first block).</summary>
    public static BlockHash Of(BlockHash? parent, ReadOnlySpan<int> tokens)
    {
        var bytes = new byte[17 + 4 * tokens.Length];
        bytes[0] = parent is null ? (byte)0 : (byte)1;
        if (parent is { } p) BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(1), p.Value);
        for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(17 + 4 * i), tokens[i]);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(bytes, digest);
        return new BlockHash(BinaryPrimitives.ReadUInt128LittleEndian(digest));
    }

    /// <summary>Hashes of the first <paramref name="blocks"/> full blocks of <paramref name="tokens"/>, continuing after <paramref name="known"/>.</summary>
    public static void Extend(List<BlockHash> known, IReadOnlyList<int> tokens, int blockSize, int blocks)
    {
        var block = new int[blockSize];
        for (int b = known.Count; b < blocks; b++)
        {
            for (int i = 0; i < blockSize; i++) block[i] = tokens[b * blockSize + i];
            known.Add(Of(b == 0 ? null : known[b - 1], block));
        }
    }
}
