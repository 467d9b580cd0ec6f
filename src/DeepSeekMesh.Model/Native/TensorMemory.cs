using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Native;

/// <summary>
/// The address of a CPU tensor's first element, for kernels that read it directly. TorchSharp's
/// <c>Tensor.bytes</c> is a Span and so stops at 2 GB (DeepSeek-V3's lm_head is 3.7 GB in f32);
/// this asks LibTorchSharp, the native half TorchSharp itself calls, for the pointer.
/// </summary>
public static partial class TensorMemory
{
    public static unsafe T* Pointer<T>(Tensor t) where T : unmanaged
    {
        if (t.device_type != TorchSharp.DeviceType.CPU) throw new ArgumentException("only a CPU tensor's memory can be read directly");
        if (!t.is_contiguous()) throw new ArgumentException("the tensor must be contiguous");
        return (T*)Data(t.Handle);
    }

    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    private static partial IntPtr Data(IntPtr tensor);
}
