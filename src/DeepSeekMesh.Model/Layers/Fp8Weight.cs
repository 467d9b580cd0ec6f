using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// A projection weight kept as the checkpoint stores it: F8 E4M3 codes [out, in] (one byte each)
/// and f32 scales, one per [block rows, block cols] block (value = code × scale of its block).
/// Stacked projections (gate+up) keep each part's scale rows, so every output row names its
/// scale row. On the CPU the weight also marks, per output row and column block, whether the block
/// holds a code that needs the kernel's exact widening (<see cref="Fp8Gemv.MarkExactBlocks"/>).
/// </summary>
public sealed class Fp8Weight : IDisposable
{
    public Tensor Codes { get; }     // [out, in] uint8
    public Tensor Scales { get; }    // [scale rows, ceil(in / blockCols)] f32
    public Tensor ScaleRow { get; }  // [out] int32: the scale row of each output row
    public Tensor? ExactBlocks { get; } // [out, ceil(in / blockCols)] uint8 on the CPU: 1 where the block needs the kernel's exact widening
    public int BlockCols { get; }

    public long OutFeatures => Codes.shape[0];
    public long InFeatures => Codes.shape[1];

    /// <summary>Resident bytes: the codes and the scales (≈ the checkpoint's bytes), plus 4 per output row and 1 per row and block (0.8 %).</summary>
    public long Bytes => Codes.numel() + Scales.numel() * 4 + ScaleRow.numel() * 4 + (ExactBlocks?.numel() ?? 0);

    public Fp8Weight(Tensor codes, Tensor scales, Tensor scaleRow, int blockCols)
    {
        if (codes.dtype != ScalarType.Byte || scales.dtype != ScalarType.Float32 || scaleRow.dtype != ScalarType.Int32)
            throw new ArgumentException("FP8 weights are uint8 codes, f32 scales and int32 scale rows");
        Codes = codes;
        Scales = scales;
        ScaleRow = scaleRow;
        BlockCols = blockCols;
        if (codes.device_type == TorchSharp.DeviceType.CPU && Fp8Gemv.Supported && codes.is_contiguous())
            ExactBlocks = MarkExactBlocks(codes, blockCols);
    }

    static unsafe Tensor MarkExactBlocks(Tensor codes, int blockCols)
    {
        int rows = (int)codes.shape[0], cols = (int)codes.shape[1];
        var flags = empty([rows, (cols + blockCols - 1) / blockCols], ScalarType.Byte);
        Fp8Gemv.MarkExactBlocks(TensorData.Pointer(codes), rows, cols, blockCols, TensorData.Pointer(flags));
        return flags;
    }

    /// <summary>The dense weight [out, in] in <paramref name="dtype"/> (fp32 products of code and scale, then rounded).</summary>
    public Tensor Dequantize(ScalarType dtype)
    {
        if (Codes.device_type != TorchSharp.DeviceType.CPU || !Fp8Gemv.Supported || dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            return DequantizeWithTensorOps(dtype);
        var dense = empty([OutFeatures, InFeatures], dtype);
        DequantizeInto(dense);
        return dense;
    }

    /// <summary>Dequantizes into a contiguous CPU f32 or bf16 tensor [out, in] with the AVX2 kernel (bf16: rounded to nearest even).</summary>
    public unsafe void DequantizeInto(Tensor destination)
    {
        long rows = OutFeatures, cols = InFeatures;
        if (destination.dtype == ScalarType.Float32)
        {
            Fp8Gemv.Dequantize(TensorData.Pointer(Codes), (float*)TensorData.Pointer(Scales), (int*)TensorData.Pointer(ScaleRow),
                (int)Scales.shape[1], BlockCols, (int)rows, (int)cols, (float*)TensorData.Pointer(destination));
            return;
        }
        Fp8Gemv.DequantizeBf16(TensorData.Pointer(Codes), (float*)TensorData.Pointer(Scales), (int*)TensorData.Pointer(ScaleRow),
            (int)Scales.shape[1], BlockCols, (int)rows, (int)cols, (ushort*)TensorData.Pointer(destination));
    }

    /// <summary>The same with tensor ops on the weight's device (CUDA, or a CPU without AVX2): decode through the 256-value table, then scale by block.</summary>
    public Tensor DequantizeWithTensorOps(ScalarType dtype)
    {
        long rows = OutFeatures, cols = InFeatures;
        using var scope = NewDisposeScope();
        using var table = tensor(ElementDecoder.Fp8E4M3, device: Codes.device); // [256]
        var values = table.index_select(0, Codes.flatten().to(ScalarType.Int32)).view(rows, cols); // [out, in] f32
        var scales = Scales.index_select(0, ScaleRow).repeat_interleave(BlockCols, 1).narrow(1, 0, cols); // [out, in] f32
        return (values * scales).to(dtype).MoveToOuterDisposeScope(); // [out, in]
    }

    public void Dispose()
    {
        Codes.Dispose();
        Scales.Dispose();
        ScaleRow.Dispose();
        ExactBlocks?.Dispose();
    }
}
