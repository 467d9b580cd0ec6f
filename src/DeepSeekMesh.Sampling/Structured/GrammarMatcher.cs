namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// One sequence's place in a <see cref="TokenGrammar"/>: masks each step's logits to the tokens that continue
/// valid output (and can still complete it in the tokens left), then follows the sampled token's bytes.
/// </summary>
public sealed class GrammarMatcher
{
    readonly TokenGrammar _grammar;
    int _state = ByteAutomaton.Start;

    internal GrammarMatcher(TokenGrammar grammar) => _grammar = grammar;

    /// <summary>The automaton state (for tests and diagnostics).</summary>
    public int State => _state;

    /// <summary>The output is complete and nothing may follow: the sequence should end.</summary>
    public bool IsComplete => _grammar.Automaton.IsFinal(_state);

    /// <summary>
    /// Sets to -inf every logit whose token cannot continue the output, or could not complete it within
    /// <paramref name="tokensLeft"/> tokens (this one included). The first visit of a state computes its mask (a walk
    /// over the vocabulary); later visits only apply it.
    /// </summary>
    public void Apply(Span<float> logits, int tokensLeft)
    {
        if (logits.Length != _grammar.Vocabulary.Size)
            throw new ArgumentException($"Expected {_grammar.Vocabulary.Size} logits, got {logits.Length}.", nameof(logits));
        var mask = _grammar.Mask(_state);
        int room = tokensLeft - 1; // tokens after this one
        // In a string's body with no room to stay in it, the plain-text block goes in the same pass.
        bool closeNow = mask.TextLoop && room < _grammar.MinTokens(_state);
        TokenGrammar.StateMask.Apply(logits, closeNow ? mask.WithoutText(_grammar.Vocabulary.PlainText) : mask.Bits);
        if (room >= mask.MaxNeedAfter) return;
        var (tokens, needs) = _grammar.Tight(mask, _state);
        for (int i = 0; i < tokens.Length && needs[i] > room; i++) logits[tokens[i]] = float.NegativeInfinity;
    }

    /// <summary>Follows <paramref name="tokenId"/>; false (state unchanged) when it cannot continue the output.</summary>
    public bool Advance(int tokenId)
    {
        if ((uint)tokenId >= (uint)_grammar.Vocabulary.Size) return false;
        var bytes = _grammar.Vocabulary.Bytes(tokenId);
        if (bytes.IsEmpty) return _grammar.Automaton.IsAccepting(_state) && _grammar.Vocabulary.EosTokenIds.Contains(tokenId);
        int next = _grammar.Automaton.Walk(_state, bytes);
        if (next < 0) return false;
        _state = next;
        return true;
    }
}
