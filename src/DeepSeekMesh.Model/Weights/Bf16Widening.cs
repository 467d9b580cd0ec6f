using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepSeekMesh.Model.Weights;

/// <summary>BF16 → F32 at memory speed: each value's 16 bits become the high half of an f32 (exact), 8 at a time, in parallel pieces.</summary>
public static unsafe class Bf16Widening
{
    const long PieceElements = 1L << 20;

    public static bool Supported => Avx2.IsSupported;

    public static void Widen(ushort* source, float* destination, long count)
    {
        int pieces = (int)((count + PieceElements - 1) / PieceElements);
        if (pieces <= 1) WidenPiece(source, destination, count);
        else Parallel.For(0, pieces, p =>
        {
            long first = p * PieceElements;
            WidenPiece(source + first, destination + first, Math.Min(PieceElements, count - first));
        });
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
