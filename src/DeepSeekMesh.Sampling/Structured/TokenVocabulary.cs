using System.Collections.Concurrent;
using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// The byte strings of a model's tokens, prepared once per tokenizer for masking (xgrammar's idea): tokens sorted
/// by their bytes, each with the length of the prefix it shares with the one before, so a walk over all tokens
/// from an automaton state steps each shared prefix once and skips every token under a rejected prefix; and
/// ranges by first byte, so states that allow a few first bytes look only at those tokens. Special and added
/// tokens are never part of constrained output; EOS is allowed where the output is complete.
/// Also caches the <see cref="TokenGrammar"/> of each schema compiled against it.
/// </summary>
public sealed class TokenVocabulary
{
    const int GrammarCacheLimit = 64;

    readonly byte[][] _tokens;        // by token id; empty = never allowed in constrained output
    readonly SortedTokens _all;       // every text token
    readonly SortedTokens _nonText;   // the text tokens that are not plain string content
    readonly ulong[] _text;           // bitset: tokens of plain string content (see IsPlainText)
    readonly bool[] _singleByte;      // bytes that are tokens by themselves
    readonly ConcurrentDictionary<string, TokenGrammar> _grammars = new(StringComparer.Ordinal);

    /// <param name="logitsSize">Length of the logits rows (the model's vocab_size; may exceed the tokenizer's).</param>
    /// <param name="tokens">Bytes of each token id below <paramref name="logitsSize"/>; null or empty = never allowed.</param>
    /// <param name="eosTokenIds">Tokens that end the output: allowed where it is complete.</param>
    public TokenVocabulary(int logitsSize, Func<int, byte[]?> tokens, IEnumerable<int> eosTokenIds)
    {
        Size = logitsSize;
        _tokens = new byte[logitsSize][];
        for (int id = 0; id < logitsSize; id++) _tokens[id] = tokens(id) ?? [];
        EosTokenIds = eosTokenIds.Where(e => (uint)e < (uint)logitsSize).Distinct().ToArray();
        foreach (int e in EosTokenIds) _tokens[e] = [];
        var textTokens = Enumerable.Range(0, logitsSize).Where(id => _tokens[id].Length > 0).ToArray();
        _all = new SortedTokens(_tokens, textTokens);
        _text = new ulong[(logitsSize + 63) / 64];
        foreach (int id in textTokens)
            if (IsPlainText(_tokens[id])) _text[id >> 6] |= 1UL << id;
        _nonText = new SortedTokens(_tokens, textTokens.Where(id => (_text[id >> 6] & (1UL << id)) == 0).ToArray());
        _singleByte = new bool[256];
        foreach (var t in _tokens)
            if (t.Length == 1) _singleByte[t[0]] = true;
        MaxTokenBytes = _tokens.Max(t => t.Length);
    }

    /// <summary>
    /// Whole characters that may stand unescaped inside a JSON string: printable ASCII but <c>"</c> and <c>\</c>, and
    /// complete UTF-8 sequences (RFC 3629). In any string such a token leads back to the string's body, so a state
    /// that loops over all of them (<see cref="LoopsOverPlainText"/>) allows them all without walking them.
    /// </summary>
    static bool IsPlainText(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length;)
        {
            byte b = bytes[i];
            if (b < 0x80)
            {
                if (b < 0x20 || b == (byte)'"' || b == (byte)'\\') return false;
                i++;
                continue;
            }
            int need; byte lo = 0x80, hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) need = 1;
            else if (b == 0xE0) { need = 2; lo = 0xA0; }
            else if (b == 0xED) { need = 2; hi = 0x9F; }
            else if (b >= 0xE1 && b <= 0xEF) need = 2;
            else if (b == 0xF0) { need = 3; lo = 0x90; }
            else if (b >= 0xF1 && b <= 0xF3) need = 3;
            else if (b == 0xF4) { need = 3; hi = 0x8F; }
            else return false;
            if (i + need >= bytes.Length) return false; // a partial character
            if (bytes[i + 1] < lo || bytes[i + 1] > hi) return false;
            for (int k = 2; k <= need; k++)
                if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) return false;
            i += need + 1;
        }
        return true;
    }

    /// <summary>True when every plain-text character (see <see cref="IsPlainText"/>) leads from <paramref name="state"/> back to it: a string's body.</summary>
    internal static bool LoopsOverPlainText(ByteAutomaton automaton, int state)
    {
        var t = automaton.Transitions;
        for (int b = 0x20; b < 0x80; b++)
            if (b != '"' && b != '\\' && t[state * 256 + b] != state) return false;
        var memo = new Dictionary<(int, int), bool>();
        // Within(s, n): every continuation byte run of length n from s ends back in state.
        bool Within(int s, int n, int lo = 0x80, int hi = 0xBF)
        {
            if (s < 0) return false;
            if (n == 0) return s == state;
            if (lo == 0x80 && hi == 0xBF && memo.TryGetValue((s, n), out bool known)) return known;
            bool ok = true;
            for (int c = lo; c <= hi && ok; c++) ok = Within(t[s * 256 + c], n - 1);
            if (lo == 0x80 && hi == 0xBF) memo[(s, n)] = ok;
            return ok;
        }
        int Lead(int b) => t[state * 256 + b];
        for (int b = 0xC2; b <= 0xDF; b++) if (!Within(Lead(b), 1)) return false;
        if (Lead(0xE0) < 0) return false;
        for (int c = 0xA0; c <= 0xBF; c++) if (!Within(t[Lead(0xE0) * 256 + c], 1)) return false;
        for (int b = 0xE1; b <= 0xEF; b++) if (b != 0xED && !Within(Lead(b), 2)) return false;
        if (Lead(0xED) < 0) return false;
        for (int c = 0x80; c <= 0x9F; c++) if (!Within(t[Lead(0xED) * 256 + c], 1)) return false;
        if (Lead(0xF0) < 0) return false;
        for (int c = 0x90; c <= 0xBF; c++) if (!Within(t[Lead(0xF0) * 256 + c], 2)) return false;
        for (int b = 0xF1; b <= 0xF3; b++) if (!Within(Lead(b), 3)) return false;
        if (Lead(0xF4) < 0) return false;
        for (int c = 0x80; c <= 0x8F; c++) if (!Within(t[Lead(0xF4) * 256 + c], 2)) return false;
        return true;
    }

    /// <summary>Bitset of the plain-text tokens (see <see cref="IsPlainText"/>).</summary>
    internal ReadOnlySpan<ulong> PlainText => _text;

    /// <summary>
    /// The vocabulary of a tokenizer: every token's bytes except special and added tokens (chat markers, tool-call
    /// and think tags never belong inside JSON).
    /// </summary>
    public static TokenVocabulary FromTokenizer(Tokenizer tokenizer, int logitsSize, IEnumerable<int> eosTokenIds)
    {
        var added = tokenizer.AddedTokens.Select(t => t.Id).ToHashSet();
        return new TokenVocabulary(logitsSize,
            id => id < tokenizer.VocabSize && !added.Contains(id) && !tokenizer.IsSpecialToken(id) ? tokenizer.GetTokenBytes(id).ToArray() : null,
            eosTokenIds);
    }

    /// <summary>Length of the logits rows masked.</summary>
    public int Size { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>Tokens that may appear in constrained output.</summary>
    public int TextTokenCount => _all.Count;

    public int MaxTokenBytes { get; }

    /// <summary>The bytes of a token (empty for special, added and EOS tokens).</summary>
    public ReadOnlySpan<byte> Bytes(int tokenId) => _tokens[tokenId];

    /// <summary>True when <paramref name="value"/> is a token by itself (closing output one byte per token relies on it).</summary>
    public bool IsSingleByteToken(byte value) => _singleByte[value];

    /// <summary>The grammar of a JSON Schema over this vocabulary, compiled once (see <see cref="ByteAutomaton.FromSchema"/>).</summary>
    public TokenGrammar Grammar(string schema)
    {
        if (_grammars.TryGetValue(schema, out var cached)) return cached;
        var grammar = new TokenGrammar(ByteAutomaton.FromSchema(schema), this);
        if (_grammars.Count >= GrammarCacheLimit) _grammars.Clear();
        return _grammars.GetOrAdd(schema, grammar);
    }

    /// <summary>
    /// Every token that can follow <paramref name="state"/>, with the state it leads to; with
    /// <paramref name="skipPlainText"/> only those that are not plain text (the caller adds those as a block).
    /// </summary>
    internal void Walk(ByteAutomaton automaton, int state, bool skipPlainText, Action<int, int> allowed) =>
        (skipPlainText ? _nonText : _all).Walk(automaton, state, MaxTokenBytes, allowed);

    /// <summary>Token ids sorted by their bytes, each with the length of the prefix it shares with the one before, and ranges by first byte.</summary>
    sealed class SortedTokens
    {
        readonly byte[][] _tokens;
        readonly int[] _sorted;
        readonly int[] _sharedPrefix;
        readonly int[] _firstByteStart; // 257 entries

        public int Count => _sorted.Length;

        public SortedTokens(byte[][] tokens, int[] ids)
        {
            _tokens = tokens;
            _sorted = ids.ToArray();
            System.Array.Sort(_sorted, (x, y) => tokens[x].AsSpan().SequenceCompareTo(tokens[y]));
            _sharedPrefix = new int[_sorted.Length];
            for (int i = 1; i < _sorted.Length; i++)
                _sharedPrefix[i] = tokens[_sorted[i - 1]].AsSpan().CommonPrefixLength(tokens[_sorted[i]]);
            _firstByteStart = new int[257];
            for (int b = 0, i = 0; b <= 256; b++)
            {
                while (i < _sorted.Length && tokens[_sorted[i]][0] < b) i++;
                _firstByteStart[b] = i;
            }
        }

        /// <summary>The sorted walk: a byte rejected at depth d skips all following tokens that share those d + 1 bytes.</summary>
        public void Walk(ByteAutomaton automaton, int state, int maxTokenBytes, Action<int, int> allowed)
        {
            var transitions = automaton.Transitions;
            Span<int> states = stackalloc int[maxTokenBytes + 1];
            states[0] = state;
            for (int first = 0; first < 256; first++)
            {
                if (transitions[state * 256 + first] < 0) continue;
                int end = _firstByteStart[first + 1];
                for (int i = _firstByteStart[first]; i < end;)
                {
                    var bytes = _tokens[_sorted[i]];
                    int depth = i == _firstByteStart[first] ? 0 : _sharedPrefix[i];
                    for (; depth < bytes.Length; depth++)
                    {
                        int next = transitions[states[depth] * 256 + bytes[depth]];
                        if (next < 0) break;
                        states[depth + 1] = next;
                    }
                    if (depth == bytes.Length)
                    {
                        allowed(_sorted[i], states[depth]);
                        i++;
                    }
                    else
                    {
                        i++;
                        while (i < end && _sharedPrefix[i] > depth) i++;
                    }
                }
            }
        }
    }
}
