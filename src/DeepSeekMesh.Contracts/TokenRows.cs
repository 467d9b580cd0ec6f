using System.Runtime.InteropServices;

namespace DeepSeekMesh.Contracts;

/// <summary>How the elements of a <see cref="TokenRows"/> payload are stored on the wire.</summary>
[GenerateSerializer, Alias("dsm.RowDtype")]
public enum RowDtype : byte
{
    /// <summary>IEEE single precision: the mesh computes exactly what one process computes (default).</summary>
    F32 = 0,
    /// <summary>bfloat16 (round to nearest even): half the bytes, results differ from the single process in the last bits.</summary>
    BF16 = 1,
}

/// <summary>
/// A block of token activations, row-major [Rows, Columns], as it travels between a frontend silo
/// and an expert or router grain. Immutable once built: Orleans passes it by reference within a
/// silo and never deep-copies it.
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.TokenRows")]
public sealed class TokenRows
{
    [Id(0)] public int Rows { get; init; }
    [Id(1)] public int Columns { get; init; }
    [Id(2)] public RowDtype Dtype { get; init; }
    /// <summary>Rows · Columns elements of <see cref="Dtype"/>, little-endian.</summary>
    [Id(3)] public byte[] Data { get; init; } = [];

    public static int ElementSize(RowDtype dtype) => dtype switch
    {
        RowDtype.F32 => 4,
        RowDtype.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown row dtype"),
    };

    public int ByteCount => checked(Rows * Columns * ElementSize(Dtype));

    /// <summary>Throws <see cref="ArgumentException"/> when the shape does not match the data.</summary>
    public void Validate()
    {
        if (Rows < 0 || Columns < 0) throw new ArgumentException($"token rows have a negative shape [{Rows}, {Columns}]");
        if (Data is null || Data.Length != ByteCount)
            throw new ArgumentException($"token rows [{Rows}, {Columns}] {Dtype} need {ByteCount} bytes, got {Data?.Length ?? 0}");
    }

    /// <summary>Encodes float rows as <paramref name="dtype"/>.</summary>
    public static TokenRows FromSingles(ReadOnlySpan<float> values, int rows, int columns, RowDtype dtype = RowDtype.F32)
    {
        if ((long)rows * columns != values.Length)
            throw new ArgumentException($"{values.Length} values do not make [{rows}, {columns}] rows");
        byte[] data;
        if (dtype == RowDtype.F32)
        {
            data = MemoryMarshal.AsBytes(values).ToArray();
        }
        else
        {
            data = new byte[values.Length * 2];
            var halves = MemoryMarshal.Cast<byte, ushort>(data.AsSpan());
            for (int i = 0; i < values.Length; i++) halves[i] = ToBFloat16(values[i]);
        }
        return new TokenRows { Rows = rows, Columns = columns, Dtype = dtype, Data = data };
    }

    /// <summary>Decodes the rows into <paramref name="destination"/> (Rows · Columns floats).</summary>
    public void CopyToSingles(Span<float> destination)
    {
        Validate();
        if (destination.Length != Rows * Columns)
            throw new ArgumentException($"destination holds {destination.Length} floats, rows have {Rows * Columns}");
        if (Dtype == RowDtype.F32)
        {
            MemoryMarshal.Cast<byte, float>(Data.AsSpan()).CopyTo(destination);
            return;
        }
        var halves = MemoryMarshal.Cast<byte, ushort>(Data.AsSpan());
        for (int i = 0; i < halves.Length; i++) destination[i] = FromBFloat16(halves[i]);
    }

    /// <summary>Rows [first, first + count) as their own payload (a copy of their bytes).</summary>
    public TokenRows Slice(int first, int count)
    {
        int bytesPerRow = Columns * ElementSize(Dtype);
        return new TokenRows { Rows = count, Columns = Columns, Dtype = Dtype, Data = Data.AsSpan(first * bytesPerRow, count * bytesPerRow).ToArray() };
    }

    public float[] ToSingles()
    {
        var values = new float[Rows * Columns];
        CopyToSingles(values);
        return values;
    }

    /// <summary>Round to nearest even, NaN stays NaN (as torch's float → bfloat16 conversion).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    public override string ToString() => $"TokenRows[{Rows}, {Columns}] {Dtype}";
}

/// <summary>A router's choice for each token row: top-k experts and their gate weights, row-major [Tokens, TopK].</summary>
[GenerateSerializer, Immutable, Alias("dsm.Routing")]
public sealed class Routing
{
    [Id(0)] public int Tokens { get; init; }
    [Id(1)] public int TopK { get; init; }
    /// <summary>Gate weight of each chosen expert (unbiased, normalized, scaled), [Tokens · TopK].</summary>
    [Id(2)] public float[] Weights { get; init; } = [];
    /// <summary>Chosen routed expert ids, [Tokens · TopK].</summary>
    [Id(3)] public int[] Indices { get; init; } = [];
}
