using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>Copies tensor contents into managed arrays in one block copy (TorchSharp's element accessor is per element).</summary>
public static class TensorData
{
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
        return MemoryMarshal.Cast<byte, T>(t.bytes).ToArray();
    }
}
