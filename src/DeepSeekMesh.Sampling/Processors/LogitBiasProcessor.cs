namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// OpenAI <c>logit_bias</c>: the bias is added to the model's logit for that token before sampling
/// (−100 effectively bans a token, +100 effectively forces it). Cost: O(#biased tokens).
/// </summary>
public sealed class LogitBiasProcessor : ILogitsProcessor
{
    private readonly int[] _ids;
    private readonly float[] _biases;

    public LogitBiasProcessor(IReadOnlyDictionary<int, float> bias)
    {
        ArgumentNullException.ThrowIfNull(bias);
        _ids = new int[bias.Count];
        _biases = new float[bias.Count];
        int i = 0;
        foreach (var (id, b) in bias)
        {
            _ids[i] = id;
            _biases[i] = b;
            i++;
        }
    }

    public bool AffectsArgmax => true;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        var logits = state.Logits;
        for (int i = 0; i < _ids.Length; i++)
            logits[_ids[i]] += _biases[i];
    }
}
