using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// Every copy between managed arrays and tensors on the hot path goes through here: one block copy
/// each way (TorchSharp's element accessor is per element), and each one counted. On a GPU a copy
/// is a host↔device synchronisation, so a decode step must make a fixed number of them whatever its
/// batch size and routing (<see cref="Copies"/> lets a test pin that number).
/// </summary>
public static class TensorData
{
    [ThreadStatic] static long _copies;

    /// <summary>Copies made by this thread so far (a step runs on one thread: take the difference around it).</summary>
    public static long Copies => _copies;

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
        return MemoryMarshal.Cast<byte, T>(t.bytes).ToArray();
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
