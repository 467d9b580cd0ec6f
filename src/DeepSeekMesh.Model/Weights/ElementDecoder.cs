using System.Runtime.InteropServices;

namespace DeepSeekMesh.Model.Weights;

/// <summary>Converts checkpoint element encodings (BF16, F16, F32, F8 E4M3 with block scales) to F32 or BF16.</summary>
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

    /// <summary>Decodes plain (unscaled) elements into F32.</summary>
    public static void ToFloat(SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case SafetensorsDType.BF16:
                var bf16 = MemoryMarshal.Cast<byte, ushort>(source);
                var asBits = MemoryMarshal.Cast<float, uint>(destination);
                for (int i = 0; i < bf16.Length; i++) asBits[i] = (uint)bf16[i] << 16;
                break;
            case SafetensorsDType.F16:
                var f16 = MemoryMarshal.Cast<byte, Half>(source);
                for (int i = 0; i < f16.Length; i++) destination[i] = (float)f16[i];
                break;
            default:
                throw new NotSupportedException($"{dtype} is not a floating-point weight encoding");
        }
    }

    /// <summary>F8 E4M3 [rows, cols] times its per-block scale [ceil(rows/br), ceil(cols/bc)] into F32.</summary>
    public static void DequantizeFp8(ReadOnlySpan<byte> source, ReadOnlySpan<float> scales, int rows, int cols, int blockRows, int blockCols, Span<float> destination)
    {
        int scaleCols = (cols + blockCols - 1) / blockCols;
        var table = Fp8E4M3;
        for (int r = 0; r < rows; r++)
        {
            var row = source.Slice(r * cols, cols);
            var output = destination.Slice(r * cols, cols);
            var rowScales = scales.Slice(r / blockRows * scaleCols, scaleCols);
            for (int c = 0; c < cols; c++)
                output[c] = table[row[c]] * rowScales[c / blockCols];
        }
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
