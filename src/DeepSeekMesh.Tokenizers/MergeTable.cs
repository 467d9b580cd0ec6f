using System.Numerics;
using System.Runtime.CompilerServices;

namespace DeepSeekMesh.Tokenizers;

/// <summary>Open-addressing hash map from a token-id pair to its merge rank (lower merges first).</summary>
internal sealed class MergeTable
{
    private const ulong Empty = ulong.MaxValue;
    private readonly ulong[] _keys;
    private readonly int[] _ranks;
    private readonly int _shift;
    private readonly int _mask;

    public MergeTable(IReadOnlyList<(int Left, int Right)> pairsByRank)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, pairsByRank.Count * 2));
        _keys = new ulong[capacity];
        _ranks = new int[capacity];
        Array.Fill(_keys, Empty);
        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        for (int rank = 0; rank < pairsByRank.Count; rank++)
        {
            var (l, r) = pairsByRank[rank];
            ulong key = Key(l, r);
            int slot = Slot(key);
            while (_keys[slot] != Empty && _keys[slot] != key)
            {
                slot = (slot + 1) & _mask;
            }
            // A duplicated pair keeps its last rank, like HF's HashMap collect.
            _keys[slot] = key;
            _ranks[slot] = rank;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);

    /// <summary>The rank of merging (left, right), or <see cref="int.MaxValue"/> when the pair never merges.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Rank(int left, int right)
    {
        ulong key = Key(left, right);
        int slot = Slot(key);
        while (true)
        {
            ulong k = _keys[slot];
            if (k == key)
            {
                return _ranks[slot];
            }
            if (k == Empty)
            {
                return int.MaxValue;
            }
            slot = (slot + 1) & _mask;
        }
    }
}
