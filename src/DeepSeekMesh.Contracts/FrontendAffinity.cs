using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DeepSeekMesh.Contracts;

/// <summary>
/// Session affinity between the gateway and frontend silos, so that a conversation returns to the
/// frontend whose prefix cache holds it: the gateway names a request's prompt prefix (a hash of its
/// first <see cref="PrefixTokens"/> tokens) in the Orleans request context, and the completion grain's
/// placement keeps, of the frontends it may use, the one that ranks highest for that key (rendezvous
/// hashing: every silo ranks them the same; a frontend leaving moves only its own keys). Prompts of
/// at most <see cref="PrefixTokens"/> tokens carry no key and are placed as before.
/// </summary>
public static class FrontendAffinity
{
    /// <summary>The request context key of the prefix hash (a <see cref="long"/>).</summary>
    public const string RequestContextKey = "dsm.prefix";

    /// <summary>Tokens of the prompt that name its session: a chat's system prompt and first turn, typically.</summary>
    public const int PrefixTokens = 64;

    /// <summary>The affinity key of <paramref name="prompt"/>, or null when it is too short to have one.</summary>
    public static long? KeyOf(IReadOnlyList<int> prompt)
    {
        if (prompt.Count <= PrefixTokens) return null;
        var bytes = new byte[4 * PrefixTokens];
        for (int i = 0; i < PrefixTokens; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), prompt[i]);
        return BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(bytes));
    }

    /// <summary>The rank of <paramref name="silo"/> (its address string) for <paramref name="key"/>; the highest wins.</summary>
    public static long Rank(long key, string silo)
    {
        var bytes = Encoding.UTF8.GetBytes(silo);
        var input = new byte[8 + bytes.Length];
        BinaryPrimitives.WriteInt64LittleEndian(input, key);
        bytes.CopyTo(input, 8);
        return BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(input));
    }
}
