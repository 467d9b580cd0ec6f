using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepSeekMesh.Model.Weights;

/// <summary>
/// BF16 ↔ F32 at memory speed, 8 values at a time, in parallel pieces: widening makes each value's 16
/// bits the high half of an f32 (exact); narrowing rounds to nearest even like libtorch (NaN stays NaN).
/// </summary>
public static unsafe class Bf16Conversion
{
    const long PieceElements = 1L << 20;

    public static bool Supported => Avx2.IsSupported;

    public static void Widen(ushort* source, float* destination, long count) =>
        InPieces(count, (first, n) => WidenPiece(source + first, destination + first, n));

    public static void Narrow(float* source, ushort* destination, long count) =>
        InPieces(count, (first, n) => NarrowPiece(source + first, destination + first, n));

    /// <summary>Runs <paramref name="piece"/>(first, count) over [0, count) in pieces of 1M elements, in parallel when there are several.</summary>
    static void InPieces(long count, Action<long, long> piece)
    {
        int pieces = (int)((count + PieceElements - 1) / PieceElements);
        if (pieces <= 1) piece(0, count);
        else Parallel.For(0, pieces, p =>
        {
            long first = p * PieceElements;
            piece(first, Math.Min(PieceElements, count - first));
        });
    }

    static void NarrowPiece(float* source, ushort* destination, long count)
    {
        long i = 0;
        var bias = Vector256.Create(0x7FFF);
        var one = Vector256.Create(1);
        var quietBit = Vector256.Create(0x400000);
        for (; i + 8 <= count; i += 8)
        {
            var x = Avx.LoadVector256(source + i);
            var bits = x.AsInt32();
            var rounded = Avx2.ShiftRightLogical(Avx2.Add(bits, Avx2.Add(bias, Avx2.And(Avx2.ShiftRightLogical(bits, 16), one))), 16);
            var nan = Avx.CompareUnordered(x, x).AsInt32();
            var quiet = Avx2.ShiftRightLogical(Avx2.Or(bits, quietBit), 16);
            var result = Avx2.BlendVariable(rounded.AsByte(), quiet.AsByte(), nan.AsByte()).AsInt32(); // [8] values in the low 16 bits
            var packed = Avx2.PackUnsignedSaturate(result, result); // 16-bit lanes: [0..3, 0..3 | 4..7, 4..7]
            var ordered = Avx2.Permute4x64(packed.AsUInt64(), 0b1000).AsUInt16(); // [0..3, 4..7, ...]
            Sse2.Store(destination + i, ordered.GetLower());
        }
        for (; i < count; i++) destination[i] = ElementDecoder.FloatToBf16(source[i]);
    }

    static void WidenPiece(ushort* source, float* destination, long count)
    {
        var bits = (int*)destination;
        long i = 0;
        for (; i + 8 <= count; i += 8)
            Avx.Store(bits + i, Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(source + i), 16));
        for (; i < count; i++) bits[i] = source[i] << 16;
    }
}
