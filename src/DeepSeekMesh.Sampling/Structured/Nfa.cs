using System.Runtime.InteropServices;

namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// A byte-level NFA under construction (Thompson fragments: byte-range edges and epsilon edges), turned into a
/// <see cref="ByteAutomaton"/> by the subset construction. States are ints; fragments take the state they start
/// from and return the state they end in.
/// </summary>
internal sealed class Nfa
{
    /// <summary>Whitespace bytes allowed at each structural position (a run longer than this is not generated).</summary>
    public const int MaxWhitespace = 8;

    /// <summary>Limit on NFA and DFA states: schemas past it are refused rather than compiled for minutes.</summary>
    public const int MaxStates = 200_000;

    readonly record struct Edge(byte Lo, byte Hi, int To);

    readonly List<List<Edge>> _edges = [];
    readonly List<List<int>> _epsilons = [];

    public int Count => _edges.Count;

    public int Add()
    {
        if (_edges.Count >= MaxStates) throw new SchemaTooLargeException();
        _edges.Add([]);
        _epsilons.Add([]);
        return _edges.Count - 1;
    }

    public void Bytes(int from, byte lo, byte hi, int to) => _edges[from].Add(new Edge(lo, hi, to));

    public void Epsilon(int from, int to) => _epsilons[from].Add(to);

    /// <summary>A new state reached from <paramref name="from"/> by one byte in [lo, hi].</summary>
    public int Step(int from, byte lo, byte hi)
    {
        int to = Add();
        Bytes(from, lo, hi, to);
        return to;
    }

    public int Literal(int from, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) from = Step(from, b, b);
        return from;
    }

    /// <summary>Up to <see cref="MaxWhitespace"/> bytes of space, tab, newline or carriage return.</summary>
    public int Whitespace(int from)
    {
        int end = Add();
        Epsilon(from, end);
        int at = from;
        for (int i = 0; i < MaxWhitespace; i++)
        {
            int next = Add();
            foreach (byte w in " \t\n\r"u8) Bytes(at, w, w, next);
            Epsilon(next, end);
            at = next;
        }
        return end;
    }

    /// <summary>Each alternative built from its own fresh start state, all joined into one end state.</summary>
    public int Union(int from, IReadOnlyList<Func<int, int>> alternatives)
    {
        if (alternatives.Count == 1) return alternatives[0](from);
        int end = Add();
        foreach (var alternative in alternatives)
        {
            int start = Add();
            Epsilon(from, start);
            Epsilon(alternative(start), end);
        }
        return end;
    }

    /// <summary>The subset construction: one DFA state per reachable set of NFA states; accepting when the set holds <paramref name="final"/>.</summary>
    public ByteAutomaton Determinize(int start, int final)
    {
        var ids = new Dictionary<int[], int>(SetComparer.Instance);
        var bySeeds = new Dictionary<int[], int>(SetComparer.Instance); // the NFA states a byte leads to → DFA state of their closure
        var sets = new List<int[]>();
        var transitions = new int[256 * 64];
        var accepting = new List<bool>();
        var buckets = new List<int>[256];
        for (int b = 0; b < 256; b++) buckets[b] = [];
        var seen = new bool[Count];
        var stack = new Stack<int>();
        var closure = new List<int>();

        int Intern(int[] set)
        {
            if (ids.TryGetValue(set, out int id)) return id;
            if (sets.Count >= MaxStates) throw new SchemaTooLargeException();
            id = sets.Count;
            ids.Add(set, id);
            sets.Add(set);
            accepting.Add(System.Array.BinarySearch(set, final) >= 0);
            if (transitions.Length < (id + 1) * 256) System.Array.Resize(ref transitions, transitions.Length * 2);
            transitions.AsSpan(id * 256, 256).Fill(-1);
            return id;
        }

        int[] Closure(ReadOnlySpan<int> seeds)
        {
            closure.Clear();
            foreach (int s in seeds)
                if (!seen[s]) { seen[s] = true; stack.Push(s); }
            while (stack.TryPop(out int q))
            {
                closure.Add(q);
                foreach (int e in _epsilons[q])
                    if (!seen[e]) { seen[e] = true; stack.Push(e); }
            }
            foreach (int q in closure) seen[q] = false;
            closure.Sort();
            return [.. closure];
        }

        int Target(List<int> bucket)
        {
            var sorted = bucket.ToArray(); // the bucket itself stays as it was, for the next byte's comparison
            System.Array.Sort(sorted);
            int n = 0;
            for (int i = 0; i < sorted.Length; i++)
                if (i == 0 || sorted[i] != sorted[i - 1]) sorted[n++] = sorted[i];
            var seeds = n == sorted.Length ? sorted : sorted[..n];
            if (bySeeds.TryGetValue(seeds, out int known)) return known;
            int id = Intern(Closure(seeds));
            bySeeds.Add(seeds, id);
            return id;
        }

        Intern(Closure([start]));
        for (int current = 0; current < sets.Count; current++)
        {
            foreach (var bucket in buckets) bucket.Clear();
            foreach (int q in sets[current])
                foreach (var e in _edges[q])
                    for (int b = e.Lo; b <= e.Hi; b++) buckets[b].Add(e.To);
            int previous = -1;
            for (int b = 0; b < 256; b++)
            {
                if (buckets[b].Count == 0) { previous = -1; continue; }
                // Neighbouring bytes of one range usually lead to the same states: reuse the target.
                int target = previous >= 0 && CollectionsMarshal.AsSpan(buckets[b]).SequenceEqual(CollectionsMarshal.AsSpan(buckets[b - 1])) ? previous : Target(buckets[b]);
                transitions[current * 256 + b] = target;
                previous = target;
            }
        }
        return new ByteAutomaton(transitions[..(sets.Count * 256)], [.. accepting]);
    }

    sealed class SetComparer : IEqualityComparer<int[]>
    {
        public static readonly SetComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] set)
        {
            var hash = new HashCode();
            foreach (int s in set) hash.Add(s);
            return hash.ToHashCode();
        }
    }
}
