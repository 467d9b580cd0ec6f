using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Byte-level BPE tokenizer loaded from an HF tokenizer.json + tokenizer_config.json (DeepSeek-V3 layout),
/// producing the same ids as HF <c>tokenizers</c>. Thread-safe.
/// </summary>
public sealed class Tokenizer
{
    /// <summary>Pieces up to this many chars have their BPE result cached.</summary>
    private const int MaxCachedPieceChars = 64;
    private const int MaxCacheEntries = 200_000;

    private readonly BytePairEncoder _bpe;
    private readonly PreTokenizer _preTokenizer;
    private readonly AddedTokenSplitter _splitter;
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly string?[] _idToToken;
    private readonly byte[][] _tokenBytes;
    private readonly bool[] _isSpecial;
    private readonly int[] _asciiToId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private int _cacheCount;

    private Tokenizer(TokenizerDefinition def, TokenizerConfig config, string configPath)
    {
        _bpe = new BytePairEncoder(def.ByteToId, def.MergePairs, def.MergeResults);
        _preTokenizer = def.PreTokenizer;
        _splitter = new AddedTokenSplitter(def.AddedTokens);
        _vocab = def.Vocab;
        AddedTokens = def.AddedTokens;
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in def.AddedTokens)
        {
            _addedByContent[t.Content] = t.Id;
        }
        int maxId = Math.Max(def.Vocab.Values.Max(), def.AddedTokens.Count > 0 ? def.AddedTokens.Max(t => t.Id) : -1);
        VocabSize = maxId + 1;
        _idToToken = new string?[VocabSize];
        _tokenBytes = new byte[VocabSize][];
        _isSpecial = new bool[VocabSize];
        foreach (var (token, id) in def.Vocab)
        {
            _idToToken[id] = token;
            _tokenBytes[id] = ByteLevelAlphabet.TryDecode(token) ?? Encoding.UTF8.GetBytes(token);
        }
        foreach (var t in def.AddedTokens)
        {
            _idToToken[t.Id] = t.Content;
            // HF's ByteLevel decoder: a token with any char outside the byte alphabet contributes its raw UTF-8.
            _tokenBytes[t.Id] = ByteLevelAlphabet.TryDecode(t.Content) ?? Encoding.UTF8.GetBytes(t.Content);
            _isSpecial[t.Id] = t.Special;
        }
        for (int i = 0; i < _tokenBytes.Length; i++)
        {
            _tokenBytes[i] ??= [];
        }
        _asciiToId = new int[128];
        for (int c = 0; c < 128; c++)
        {
            _asciiToId[c] = def.ByteToId[c];
        }
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        Config = config;
        BosToken = config.BosToken;
        EosToken = config.EosToken;
        BosTokenId = ResolveConfigToken(configPath, "bos_token", config.BosToken);
        EosTokenId = ResolveConfigToken(configPath, "eos_token", config.EosToken);
    }

    /// <summary>Loads <c>tokenizer.json</c> and <c>tokenizer_config.json</c> from <paramref name="dir"/>.</summary>
    public static Tokenizer FromDirectory(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Tokenizer directory not found: {dir}");
        }
        return FromFiles(Path.Combine(dir, "tokenizer.json"), Path.Combine(dir, "tokenizer_config.json"));
    }

    /// <summary>Loads a tokenizer from explicit file paths.</summary>
    public static Tokenizer FromFiles(string tokenizerJsonPath, string tokenizerConfigPath)
    {
        var def = TokenizerJsonLoader.Load(Path.GetFullPath(tokenizerJsonPath));
        var config = TokenizerConfig.Load(Path.GetFullPath(tokenizerConfigPath));
        return new Tokenizer(def, config, Path.GetFullPath(tokenizerConfigPath));
    }

    /// <summary>Number of ids (max id + 1), covering the model vocabulary and the added tokens.</summary>
    public int VocabSize { get; }

    public int? BosTokenId { get; }

    public int? EosTokenId { get; }

    public string? BosToken { get; }

    public string? EosToken { get; }

    /// <summary><c>add_bos_token</c> from tokenizer_config.json.</summary>
    public bool AddBosToken => Config.AddBosToken;

    /// <summary>Raw <c>chat_template</c> string from tokenizer_config.json.</summary>
    public string? ChatTemplate => Config.ChatTemplate;

    public TokenizerConfig Config { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    internal BytePairEncoder Bpe => _bpe;

    internal PreTokenizer PreTokenizerPipeline => _preTokenizer;

    /// <summary>Encodes with <see cref="AddBosToken"/> deciding whether BOS is prepended.</summary>
    public int[] Encode(string text) => Encode(text, AddBosToken);

    /// <summary>Encodes <paramref name="text"/>; added/special tokens written literally in the text are recognised.</summary>
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        if (addBos)
        {
            output.Add(BosTokenId ?? throw new InvalidOperationException("addBos requested but tokenizer_config.json defines no bos_token."));
        }
        EncodeTo(text, output);
        return output.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> (no BOS) to <paramref name="output"/>.</summary>
    public void EncodeTo(ReadOnlySpan<char> text, List<int> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (text.IsEmpty)
        {
            return;
        }
        var segments = new List<AddedTokenSplitter.Segment>();
        _splitter.Split(text, segments);
        var pieces = new RangeList(64);
        var scratch = new RangeList(64);
        foreach (var seg in segments)
        {
            if (seg.Id >= 0)
            {
                output.Add(seg.Id);
                continue;
            }
            _preTokenizer.Split(text, seg.Start, seg.End, ref pieces, ref scratch);
            for (int i = 0; i < pieces.Count; i++)
            {
                var (s, e) = pieces[i];
                EncodePiece(text[s..e], output);
            }
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> output)
    {
        if (piece.Length == 1 && piece[0] < 128)
        {
            output.Add(_asciiToId[piece[0]]);
            return;
        }
        bool cacheable = piece.Length <= MaxCachedPieceChars;
        if (cacheable && _cacheLookup.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        int maxBytes = piece.Length * 3;
        byte[]? rentedBytes = null;
        int[]? rentedIds = null;
        Span<byte> bytes = maxBytes <= 1024 ? stackalloc byte[1024] : (rentedBytes = ArrayPool<byte>.Shared.Rent(maxBytes));
        int nBytes = Encoding.UTF8.GetBytes(piece, bytes);
        Span<int> ids = nBytes <= 256 ? stackalloc int[256] : (rentedIds = ArrayPool<int>.Shared.Rent(nBytes));
        int count = _bpe.Encode(bytes[..nBytes], ids);
        var result = ids[..count];
        output.AddRange(result);
        if (cacheable)
        {
            if (_cacheCount >= MaxCacheEntries)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }
            if (_cacheLookup.TryAdd(piece, result.ToArray()))
            {
                Interlocked.Increment(ref _cacheCount);
            }
        }
        if (rentedBytes is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedBytes);
        }
        if (rentedIds is not null)
        {
            ArrayPool<int>.Shared.Return(rentedIds);
        }
    }

    /// <summary>
    /// Decodes ids to text like HF <c>decode</c>: token bytes are concatenated and decoded as UTF-8, invalid
    /// sequences becoming U+FFFD. Ids outside the vocabulary are ignored (as HF does).
    /// </summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false) =>
        Encoding.UTF8.GetString(DecodeToBytes(ids, skipSpecialTokens));

    /// <summary>The raw UTF-8 bytes the ids stand for (before any U+FFFD substitution); for streaming.</summary>
    public byte[] DecodeToBytes(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var buffer = new ArrayBufferWriter<byte>(ids.Count * 4 + 16);
        for (int i = 0; i < ids.Count; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)VocabSize || (skipSpecialTokens && _isSpecial[id]))
            {
                continue;
            }
            buffer.Write(_tokenBytes[id]);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The bytes one token contributes to decoded text (empty for unknown ids).</summary>
    public ReadOnlySpan<byte> GetTokenBytes(int id) => (uint)id < (uint)VocabSize ? _tokenBytes[id] : ReadOnlySpan<byte>.Empty;

    /// <summary>True for added tokens marked <c>special</c> (skipped by <c>skipSpecialTokens</c>).</summary>
    public bool IsSpecialToken(int id) => (uint)id < (uint)VocabSize && _isSpecial[id];

    /// <summary>The token string (byte-level form for vocabulary tokens, content for added tokens), or null.</summary>
    public string? TokenToString(int id) => (uint)id < (uint)VocabSize ? _idToToken[id] : null;

    /// <summary>The id of a token string (added tokens first, then the vocabulary), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out int id) || _vocab.TryGetValue(token, out id))
        {
            return id;
        }
        return null;
    }

    /// <summary>Drops the per-piece BPE cache (for benchmarks and memory pressure).</summary>
    public void ClearCache()
    {
        _cache.Clear();
        Interlocked.Exchange(ref _cacheCount, 0);
    }

    private int? ResolveConfigToken(string configPath, string field, string? token)
    {
        if (token is null)
        {
            return null;
        }
        return TokenToId(token) ?? throw new TokenizerFormatException(configPath, field, $"token '{token}' is not in tokenizer.json's vocabulary or added_tokens");
    }
}
