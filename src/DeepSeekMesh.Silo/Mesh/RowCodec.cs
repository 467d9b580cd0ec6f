using System.Runtime.InteropServices;
using DeepSeekMesh.Contracts;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Mesh;

/// <summary>Tensor [n, hidden] ↔ <see cref="TokenRows"/>: one block copy each way for F32.</summary>
public static class RowCodec
{
    public static TokenRows ToRows(Tensor rows, RowDtype dtype)
    {
        if (rows.dim() != 2) throw new ArgumentException($"token rows must be 2-D, got [{string.Join(", ", rows.shape)}]");
        int n = checked((int)rows.shape[0]), columns = checked((int)rows.shape[1]);
        using var scope = NewDisposeScope();
        var floats = rows.dtype == ScalarType.Float32 ? rows : rows.to(ScalarType.Float32);
        if (floats.device_type != TorchSharp.DeviceType.CPU) floats = floats.cpu();
        if (!floats.is_contiguous()) floats = floats.contiguous();
        return TokenRows.FromSingles(MemoryMarshal.Cast<byte, float>(floats.bytes), n, columns, dtype);
    }

    /// <summary>A new [Rows, Columns] tensor of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(TokenRows rows, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        rows.Validate();
        var result = empty([rows.Rows, rows.Columns], ScalarType.Float32);
        rows.CopyToSingles(MemoryMarshal.Cast<byte, float>(result.bytes));
        if (dtype != ScalarType.Float32)
        {
            var converted = result.to(dtype);
            result.Dispose();
            result = converted;
        }
        if (device is not null && device.type != TorchSharp.DeviceType.CPU)
        {
            var moved = result.to(device);
            result.Dispose();
            result = moved;
        }
        return result;
    }
}
