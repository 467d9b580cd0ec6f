namespace DeepSeekMesh.Model.Weights;

/// <summary>Element encodings of checkpoints: the F8 E4M3 value table and BF16/FP8 rounding (writing checkpoints).</summary>
public static class ElementDecoder
{
    /// <summary>Every F8 E4M3 (fn: no infinities; S.1111.111 is NaN) byte's value.</summary>
    public static readonly float[] Fp8E4M3 = BuildFp8Table();

    static float[] BuildFp8Table()
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
        {
            int sign = b >> 7, exponent = (b >> 3) & 0xF, mantissa = b & 0x7;
            float magnitude = exponent == 0
                ? MathF.ScaleB(mantissa / 8f, -6)
                : MathF.ScaleB(1f + mantissa / 8f, exponent - 7);
            if (exponent == 0xF && mantissa == 0x7) magnitude = float.NaN;
            table[b] = sign == 1 ? -magnitude : magnitude;
        }
        return table;
    }

    public static float Bf16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round-to-nearest-even F32 → BF16 (NaN stays NaN).</summary>
    public static ushort FloatToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>The F8 E4M3 byte nearest to <paramref name="value"/> (saturating at ±448, ties to even mantissa).</summary>
    public static byte FloatToFp8E4M3(float value)
    {
        if (float.IsNaN(value)) return 0x7F;
        byte sign = value < 0 ? (byte)0x80 : (byte)0;
        float magnitude = Math.Min(Math.Abs(value), 448f);
        int lo = 0, hi = 0x7E; // positive finite codes are ordered by value
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Fp8E4M3[mid] <= magnitude) lo = mid; else hi = mid - 1;
        }
        int best = lo;
        if (lo < 0x7E)
        {
            float below = magnitude - Fp8E4M3[lo], above = Fp8E4M3[lo + 1] - magnitude;
            if (above < below || (above == below && (lo & 1) == 1)) best = lo + 1;
        }
        return (byte)(sign | best);
    }
}
