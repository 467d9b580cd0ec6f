using System.Diagnostics;

namespace DeepSeekMesh.Gateway;

/// <summary>The gateway's own cost per token: time from a token's arrival from the grain to the moment its text is written and flushed.</summary>
public sealed class GatewayMetrics
{
    long _tokens, _ticks, _requests, _frontendRetries;

    public void AddTokenProcessing(long ticks)
    {
        Interlocked.Increment(ref _tokens);
        Interlocked.Add(ref _ticks, ticks);
    }

    public void AddWrite(long ticks) => Interlocked.Add(ref _ticks, ticks);

    public void AddRequest() => Interlocked.Increment(ref _requests);

    /// <summary>A choice started over on another frontend after its frontend failed.</summary>
    public void AddFrontendRetry() => Interlocked.Increment(ref _frontendRetries);

    public long FrontendRetries => Interlocked.Read(ref _frontendRetries);

    public long Tokens => Interlocked.Read(ref _tokens);
    public long Requests => Interlocked.Read(ref _requests);
    public double MicrosecondsTotal => Interlocked.Read(ref _ticks) * 1e6 / Stopwatch.Frequency;
    public double MicrosecondsPerToken => Tokens == 0 ? 0 : MicrosecondsTotal / Tokens;
}
