using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// Every copy between managed arrays and tensors on the hot path goes through here: one block copy
/// each way (TorchSharp's element accessor is per element), and each one counted. On a GPU a copy
/// is a host↔device synchronisation, so a decode step must make a fixed number of them whatever its
/// batch size and routing (<see cref="Copies"/> lets a test pin that number).
/// </summary>
public static partial class TensorData
{
    [ThreadStatic] static long _copies;

    /// <summary>Copies made by this thread so far (a step runs on one thread: take the difference around it).</summary>
    public static long Copies => _copies;

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>
    /// The address of a CPU tensor's first element (its storage offset included), for kernels that
    /// read or fill it directly: unlike <c>Tensor.bytes</c>, a Span, not limited to 2 GB (DeepSeek-V3's
    /// lm_head is 3.7 GB in f32). Not counted: no copy is made.
    /// </summary>
    public static unsafe byte* Pointer(Tensor t)
    {
        if (t.device_type != TorchSharp.DeviceType.CPU) throw new ArgumentException("only a CPU tensor's memory can be read directly");
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero && t.numel() > 0) throw new InvalidOperationException("libtorch returned no data pointer for a non-empty tensor");
        return (byte*)p;
    }

    /// <summary>Tensor → host.</summary>
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
        _copies++;
        var result = new T[t.numel()];
        long bytes = result.LongLength * Unsafe.SizeOf<T>();
        unsafe
        {
            fixed (T* p = result) Buffer.MemoryCopy(Pointer(t), p, bytes, bytes); // no Span: tensors over 2 GB copy too
        }
        return result;
    }

    /// <summary>
    /// Tensor → host, into <paramref name="buffer"/> (replaced by a larger one when too small): a decode
    /// loop reuses one buffer instead of allocating its logits — a large-object-heap array — every step.
    /// Returns the element count.
    /// </summary>
    public static long CopyTo<T>(Tensor t, ref T[] buffer) where T : unmanaged
    {
        if (t.device_type != TorchSharp.DeviceType.CPU)
        {
            using var cpu = t.cpu();
            return CopyTo(cpu, ref buffer);
        }
        if (!t.is_contiguous())
        {
            using var contiguous = t.contiguous();
            return CopyTo(contiguous, ref buffer);
        }
        _copies++;
        long count = t.numel();
        if (buffer.LongLength < count) buffer = new T[Math.Max(count, buffer.LongLength * 2)];
        long bytes = count * Unsafe.SizeOf<T>();
        unsafe
        {
            fixed (T* p = buffer) Buffer.MemoryCopy(Pointer(t), p, bytes, bytes);
        }
        return count;
    }

    /// <summary>Host → tensor of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(long[] data, long[] shape, Device device)
    {
        _copies++;
        return tensor(data, shape, ScalarType.Int64, device);
    }

    /// <summary>Host → tensor of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(bool[] data, long[] shape, Device device)
    {
        _copies++;
        return tensor(data, shape, ScalarType.Bool, device);
    }
}
