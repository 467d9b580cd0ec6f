using System.Numerics;

namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// A <see cref="ByteAutomaton"/> bound to a <see cref="TokenVocabulary"/>: per automaton state, the bitmask of the
/// tokens that can continue the output there (EOS where it may end), computed the first time a sequence reaches
/// that state and kept (the cache xgrammar builds ahead of time, filled lazily here). Thread-safe; shared by
/// every sequence with the same schema.
/// <para>
/// Termination: <see cref="MinTokens"/> of a state is the fewest tokens that complete the output from it, one
/// single-byte token per byte of the shortest completion. A token is allowed only if the state it leads to can
/// still be completed in the tokens left after it, so the output is complete by max_tokens whatever the model
/// prefers (the model "rambles" only while there is room; near the end only tokens that close it remain).
/// </para>
/// </summary>
public sealed class TokenGrammar
{
    readonly StateMask?[] _masks;
    readonly int[] _distance;
    int _walks;

    internal TokenGrammar(ByteAutomaton automaton, TokenVocabulary vocabulary)
    {
        Automaton = automaton;
        Vocabulary = vocabulary;
        _masks = new StateMask?[automaton.StateCount];
        _distance = automaton.Distances(vocabulary.IsSingleByteToken);
    }

    public ByteAutomaton Automaton { get; }

    public TokenVocabulary Vocabulary { get; }

    /// <summary>The fewest tokens any complete output needs (checked against max_tokens when a request starts).</summary>
    public int MinOutputTokens => _distance[ByteAutomaton.Start];

    /// <summary>Walks over the vocabulary so far (first visits of states, first tight budgets in them): what is not cached.</summary>
    public int Walks => Volatile.Read(ref _walks);

    /// <summary>Automaton states whose masks have been computed so far.</summary>
    public int CachedStates => _masks.Count(m => m is not null);

    public GrammarMatcher NewMatcher() => new(this);

    internal int MinTokens(int state) => _distance[state];

    internal StateMask Mask(int state)
    {
        var mask = Volatile.Read(ref _masks[state]);
        if (mask is not null) return mask;
        mask = Build(state);
        return Interlocked.CompareExchange(ref _masks[state], mask, null) ?? mask;
    }

    StateMask Build(int state)
    {
        Interlocked.Increment(ref _walks);
        var bits = new ulong[(Vocabulary.Size + 63) / 64];
        int maxAfter = 0, count = 0;
        // In a string's body every plain-text token comes back to it: allow them as one block, walk only the rest.
        bool textLoop = TokenVocabulary.LoopsOverPlainText(Automaton, state);
        if (textLoop)
        {
            var text = Vocabulary.PlainText;
            for (int w = 0; w < bits.Length; w++) { bits[w] = text[w]; count += BitOperations.PopCount(text[w]); }
            maxAfter = _distance[state];
        }
        Vocabulary.Walk(Automaton, state, textLoop, (token, next) =>
        {
            bits[token >> 6] |= 1UL << token;
            maxAfter = Math.Max(maxAfter, _distance[next]);
            count++;
        });
        if (Automaton.IsAccepting(state))
            foreach (int eos in Vocabulary.EosTokenIds) { bits[eos >> 6] |= 1UL << eos; count++; }
        return new StateMask(bits, count, maxAfter, textLoop);
    }

    /// <summary>
    /// The allowed tokens of <paramref name="state"/> whose next state needs at least as many tokens to complete as
    /// <paramref name="state"/> itself, by that need, largest first: the only ones a tight budget removes (but the
    /// plain-text block of a string's body, which needs exactly as many: <see cref="GrammarMatcher"/> removes it whole).
    /// </summary>
    internal (int[] Tokens, int[] Needs) Tight(StateMask mask, int state)
    {
        if (mask.TightTokens is { } tokens) return (tokens, mask.TightNeeds!);
        Interlocked.Increment(ref _walks);
        int need = _distance[state];
        var list = new List<(int Token, int Need)>();
        Vocabulary.Walk(Automaton, state, mask.TextLoop, (token, next) =>
        {
            if (_distance[next] >= need) list.Add((token, _distance[next]));
        });
        list.Sort((a, b) => b.Need.CompareTo(a.Need));
        var needs = list.Select(t => t.Need).ToArray();
        mask.TightNeeds = needs;
        mask.TightTokens = list.Select(t => t.Token).ToArray();
        return (mask.TightTokens, needs);
    }

    internal sealed class StateMask(ulong[] bits, int count, int maxNeedAfter, bool textLoop)
    {
        /// <summary>A string's body: all plain-text tokens allowed, each leading back here.</summary>
        public bool TextLoop { get; } = textLoop;
        public ulong[] Bits { get; } = bits;
        /// <summary>Tokens allowed (EOS included).</summary>
        public int Count { get; } = count;
        /// <summary>The most tokens any allowed token leaves to complete the output.</summary>
        public int MaxNeedAfter { get; } = maxNeedAfter;
        public volatile int[]? TightTokens;
        public int[]? TightNeeds;

        volatile ulong[]? _withoutText;

        /// <summary>The mask less the plain-text block (a string's body when the budget requires closing it now).</summary>
        public ulong[] WithoutText(ReadOnlySpan<ulong> text)
        {
            if (_withoutText is { } cached) return cached;
            var bits = (ulong[])Bits.Clone();
            for (int w = 0; w < bits.Length; w++) bits[w] &= ~text[w];
            return _withoutText = bits;
        }

        /// <summary>Sets every token <paramref name="bits"/> does not allow to -inf.</summary>
        public static void Apply(Span<float> logits, ulong[] bits)
        {
            for (int w = 0; w < bits.Length; w++)
            {
                ulong allowed = bits[w];
                if (allowed == ulong.MaxValue) continue;
                int start = w << 6;
                int length = Math.Min(64, logits.Length - start);
                if (allowed == 0)
                {
                    logits.Slice(start, length).Fill(float.NegativeInfinity);
                    continue;
                }
                ulong blocked = ~allowed;
                if (length < 64) blocked &= (1UL << length) - 1;
                while (blocked != 0)
                {
                    logits[start + BitOperations.TrailingZeroCount(blocked)] = float.NegativeInfinity;
                    blocked &= blocked - 1;
                }
            }
        }
    }
}
