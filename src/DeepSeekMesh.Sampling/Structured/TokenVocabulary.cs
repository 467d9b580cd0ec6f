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
    readonly int[] _sorted;           // token ids with bytes, sorted by bytes
    readonly int[] _sharedPrefix;     // by sorted index: bytes shared with the previous token
    readonly int[] _firstByteStart;   // 257 entries: sorted range of tokens starting with each byte
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
        _sorted = Enumerable.Range(0, logitsSize).Where(id => _tokens[id].Length > 0).ToArray();
        System.Array.Sort(_sorted, (x, y) => _tokens[x].AsSpan().SequenceCompareTo(_tokens[y]));
        _sharedPrefix = new int[_sorted.Length];
        for (int i = 1; i < _sorted.Length; i++)
            _sharedPrefix[i] = _tokens[_sorted[i - 1]].AsSpan().CommonPrefixLength(_tokens[_sorted[i]]);
        _firstByteStart = new int[257];
        for (int b = 0, i = 0; b <= 256; b++)
        {
            while (i < _sorted.Length && _tokens[_sorted[i]][0] < b) i++;
            _firstByteStart[b] = i;
        }
        _singleByte = new bool[256];
        foreach (var t in _tokens)
            if (t.Length == 1) _singleByte[t[0]] = true;
        MaxTokenBytes = _tokens.Max(t => t.Length);
    }

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
    public int TextTokenCount => _sorted.Length;

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
    /// Every token that can follow <paramref name="state"/>, with the state it leads to: the sorted walk. A byte
    /// rejected at depth d skips all following tokens that share those d + 1 bytes.
    /// </summary>
    internal void Walk(ByteAutomaton automaton, int state, Action<int, int> allowed)
    {
        var transitions = automaton.Transitions;
        Span<int> states = stackalloc int[MaxTokenBytes + 1];
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
