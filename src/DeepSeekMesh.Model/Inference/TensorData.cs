using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>Copies tensor contents into managed arrays in one block copy (TorchSharp's element accessor is per element).</summary>
public static partial class TensorData
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>
    /// The address of a tensor's first element (its storage offset included), for kernels that read
    /// or fill it directly: unlike <c>Tensor.bytes</c>, not limited to 2 GB.
    /// </summary>
    public static unsafe byte* Pointer(Tensor t)
    {
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero && t.numel() > 0) throw new InvalidOperationException("libtorch returned no data pointer for a non-empty tensor");
        return (byte*)p;
    }

    public static T[] ToArray<T>(Tensor t) where T : unmanaged
    {
        if (t.device_type != TorchSharp.DeviceType.CPU)
        {
            using var cpu = t.cpu();
            return ToArray<T>(cpu);
        }
        if (!t.is_contiguous())
        {
            using var contiguous = t.contiguous();
            return ToArray<T>(contiguous);
        }
        var result = new T[t.numel()];
        long bytes = result.LongLength * Unsafe.SizeOf<T>();
        unsafe
        {
            fixed (T* p = result) Buffer.MemoryCopy(Pointer(t), p, bytes, bytes); // no Span: tensors over 2 GB copy too
        }
        return result;
    }
}
