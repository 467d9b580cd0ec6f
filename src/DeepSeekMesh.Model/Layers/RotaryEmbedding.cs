using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Rotary position embedding of the decoupled rope part, rotating interleaved pairs (x[2i], x[2i+1])
/// as DeepSeek's reference does, with YaRN-corrected frequencies when rope_scaling says so.
/// Frequencies are computed in float32 as the reference computes them.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    readonly Tensor _freqs; // [rope/2] float32

    public RotaryEmbedding(ModelConfig config, Device device)
    {
        int dim = config.QkRopeHeadDim;
        double theta = config.RopeTheta;
        var freqs = new float[dim / 2];
        for (int i = 0; i < freqs.Length; i++)
            freqs[i] = 1f / MathF.Pow((float)theta, 2f * i / dim); // base^(-2i/d)
        if (config.RopeScaling is { } yarn)
        {
            var (low, high) = CorrectionRange(yarn.BetaFast, yarn.BetaSlow, dim, theta, yarn.OriginalMaxPositionEmbeddings);
            if (low == high) high += 0.001;
            for (int i = 0; i < freqs.Length; i++)
            {
                float smooth = 1f - Math.Clamp((float)((i - low) / (high - low)), 0f, 1f);
                freqs[i] = (float)(freqs[i] / yarn.Factor) * (1f - smooth) + freqs[i] * smooth; // interpolate below the ramp, extrapolate above
            }
        }
        _freqs = tensor(freqs, ScalarType.Float32, device);
    }

    /// <summary>d · ln(L0 / (2π r)) / (2 ln base): the dimension whose wavelength turns r times in L0.</summary>
    static double CorrectionDim(double rotations, int dim, double theta, int originalLength) =>
        dim * Math.Log(originalLength / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));

    static (double Low, double High) CorrectionRange(double betaFast, double betaSlow, int dim, double theta, int originalLength)
    {
        double low = Math.Floor(CorrectionDim(betaFast, dim, theta, originalLength));
        double high = Math.Ceiling(CorrectionDim(betaSlow, dim, theta, originalLength));
        return (Math.Max(low, 0), Math.Min(high, dim - 1));
    }

    /// <summary>cos and sin of position · frequency for each row.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions) // [T] int64 -> [T, rope/2] twice
    {
        using var angles = outer(positions.to(ScalarType.Float32), _freqs); // [T, rope/2]
        return (angles.cos(), angles.sin());
    }

    /// <summary>Rotates x [T, ..., rope] by the angles of its row (cos/sin [T, rope/2]).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        var pairs = x.reshape([.. shape[..^1], shape[^1] / 2, 2]); // [T, ..., rope/2, 2]
        var even = pairs.select(-1, 0); // [T, ..., rope/2]
        var odd = pairs.select(-1, 1); // [T, ..., rope/2]
        for (int i = 2; i < shape.Length; i++) { cos = cos.unsqueeze(1); sin = sin.unsqueeze(1); } // [T, 1.., rope/2]
        var rotated = stack([even * cos - odd * sin, even * sin + odd * cos], -1); // [T, ..., rope/2, 2]
        return rotated.reshape(shape).to(x.dtype).MoveToOuterDisposeScope(); // [T, ..., rope]
    }

    public void Dispose() => _freqs.Dispose();
}
