using System.Collections.Concurrent;

namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// A deterministic automaton over UTF-8 bytes that accepts exactly the JSON texts a response format allows
/// (compiled by <see cref="JsonSchemaCompiler"/>). State 0 is the start; <see cref="Next"/> is -1 where a byte
/// cannot continue valid output. Every state can still reach an accepting one, and
/// <see cref="MinBytesToAccept"/> says in how many bytes at least: what the matcher uses to close the output in time.
/// </summary>
public sealed class ByteAutomaton
{
    const int CacheLimit = 256;
    static readonly ConcurrentDictionary<string, ByteAutomaton> Cache = new(StringComparer.Ordinal);

    readonly int[] _transitions; // [state * 256 + byte] → state, -1 = rejected
    readonly bool[] _accepting;
    readonly bool[] _final;
    readonly int[] _distance;

    internal ByteAutomaton(int[] transitions, bool[] accepting)
    {
        _transitions = transitions;
        _accepting = accepting;
        _final = new bool[accepting.Length];
        for (int s = 0; s < accepting.Length; s++)
            _final[s] = accepting[s] && transitions.AsSpan(s * 256, 256).IndexOfAnyExcept(-1) < 0;
        _distance = Distances(static _ => true);
    }

    /// <summary>The automaton of <c>response_format</c> <c>json_object</c>: any JSON object.</summary>
    public const string JsonObjectSchema = """{"type":"object"}""";

    /// <summary>
    /// The automaton of a JSON Schema (compact JSON text), compiled once per distinct text. Throws
    /// <see cref="SamplingParamsException"/> (parameter <c>response_format</c>) naming what is not supported.
    /// </summary>
    public static ByteAutomaton FromSchema(string schema)
    {
        if (Cache.TryGetValue(schema, out var cached)) return cached;
        var compiled = JsonSchemaCompiler.Compile(schema);
        if (Cache.Count >= CacheLimit) Cache.Clear();
        return Cache.GetOrAdd(schema, compiled);
    }

    public int StateCount => _accepting.Length;

    public const int Start = 0;

    internal int[] Transitions => _transitions;

    public int Next(int state, byte value) => _transitions[state * 256 + value];

    /// <summary>The output may end here.</summary>
    public bool IsAccepting(int state) => _accepting[state];

    /// <summary>The output is complete and nothing can follow (an accepting state without transitions).</summary>
    public bool IsFinal(int state) => _final[state];

    /// <summary>The fewest bytes that take <paramref name="state"/> to an accepting state.</summary>
    public int MinBytesToAccept(int state) => _distance[state];

    /// <summary>The state after <paramref name="text"/> from <paramref name="state"/>, or -1 when a byte is rejected.</summary>
    public int Walk(int state, ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            state = _transitions[state * 256 + b];
            if (state < 0) return -1;
        }
        return state;
    }

    /// <summary>True when <paramref name="text"/> is a complete output.</summary>
    public bool Accepts(ReadOnlySpan<byte> text) => Walk(Start, text) is var s && s >= 0 && _accepting[s];

    /// <summary>
    /// Per state, the fewest bytes to an accepting state using only bytes <paramref name="usable"/> allows
    /// (int.MaxValue where none): a breadth-first search from the accepting states over reversed transitions.
    /// </summary>
    internal int[] Distances(Func<byte, bool> usable)
    {
        int n = _accepting.Length;
        var reverse = new List<int>[n];
        for (int s = 0; s < n; s++) reverse[s] = [];
        for (int s = 0; s < n; s++)
        {
            int last = -1;
            for (int b = 0; b < 256; b++)
            {
                int t = _transitions[s * 256 + b];
                if (t < 0 || t == last || !usable((byte)b)) continue;
                reverse[t].Add(s);
                last = t;
            }
        }
        var distance = new int[n];
        Array.Fill(distance, int.MaxValue);
        var queue = new Queue<int>();
        for (int s = 0; s < n; s++)
            if (_accepting[s]) { distance[s] = 0; queue.Enqueue(s); }
        while (queue.TryDequeue(out int t))
            foreach (int s in reverse[t])
                if (distance[s] == int.MaxValue) { distance[s] = distance[t] + 1; queue.Enqueue(s); }
        return distance;
    }
}
