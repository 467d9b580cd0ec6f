using DeepSeekMesh.Contracts;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway.Frontends;

/// <summary>
/// When a choice whose frontend failed runs again on another frontend. A choice may start over only
/// while nothing of it reached the client: always for a non-streamed request (its output is kept until
/// it completes), and for a streamed one until its first token is written. The failures that start it
/// over are those of the silo, not of the request: the frontend lost (<see cref="FrontendLostException"/>),
/// a silo that refused or dropped the call, a call that timed out. A refusal of the request itself
/// (overloaded, too large, invalid) and the client leaving never retry. Each attempt uses a fresh grain
/// key (<see cref="GrainKey"/>), so that it activates anew where placement now puts it (a live frontend);
/// the delays back off so that a frontend not yet declared dead is not hit in a tight loop.
/// </summary>
public sealed class FrontendRetryPolicy
{
    /// <summary>Attempts of one choice in all (the first included).</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>Delay before the second attempt; it doubles per attempt up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether <paramref name="error"/> is the silo's failure rather than the request's.</summary>
    public static bool IsFrontendFailure(Exception error) => error switch
    {
        FrontendLostException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException => true,
        CompletionRejectedException r => r.Reason == CompletionRejection.NoEngine, // placed on a silo without an engine
        OrleansException => true, // connection failures and the like; grain code throws CompletionRejectedException
        _ => false,
    };

    /// <summary>
    /// Whether attempt <paramref name="attempt"/> (0: the first) of a choice that failed with <paramref name="error"/>
    /// runs again; <paramref name="delivered"/>: some of its output already reached the client.
    /// </summary>
    public bool ShouldRetry(Exception error, int attempt, bool delivered, CancellationToken requestAborted) =>
        !delivered && !requestAborted.IsCancellationRequested && attempt + 1 < MaxAttempts && IsFrontendFailure(error);

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1.</summary>
    public TimeSpan Delay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(attempt, 20)));

    /// <summary>The completion grain key of an attempt: the choice's key, then a fresh one per retry.</summary>
    public static string GrainKey(string choiceKey, int attempt) => attempt == 0 ? choiceKey : $"{choiceKey}-retry{attempt}";
}
