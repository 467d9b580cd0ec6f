using DeepSeekMesh.Contracts;
using DeepSeekMesh.Gateway.Frontends;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>When a choice whose frontend failed starts over on another (the process test is FrontendLossTests in the silo tests).</summary>
public sealed class FrontendRetryPolicyTests
{
    readonly FrontendRetryPolicy _policy = new() { MaxAttempts = 4 };

    public static TheoryData<Exception, bool> Failures => new()
    {
        { new FrontendLostException("S127.0.0.1:1111:1"), true },
        { new SiloUnavailableException("gone"), true },
        { new TimeoutException("no response"), true },
        { new OrleansException("connection to the silo failed"), true },
        { new CompletionRejectedException(CompletionRejection.NoEngine, "no engine here"), true },
        { new CompletionRejectedException(CompletionRejection.Overloaded, "queue full"), false },
        { new CompletionRejectedException(CompletionRejection.TooLarge, "too long"), false },
        { new CompletionRejectedException(CompletionRejection.InvalidRequest, "bad top_p", "top_p"), false },
        { new OperationCanceledException(), false },
        { new InvalidOperationException("a bug"), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void OnlyTheSilosFailuresRetry(Exception error, bool retries)
    {
        Assert.Equal(retries, FrontendRetryPolicy.IsFrontendFailure(error));
        Assert.Equal(retries, _policy.ShouldRetry(error, attempt: 0, delivered: false, CancellationToken.None));
    }

    [Fact]
    public void NothingRetriesOnceOutputReachedTheClientOrTheClientLeftOrAttemptsRanOut()
    {
        var lost = new FrontendLostException("S127.0.0.1:1111:1");
        Assert.False(_policy.ShouldRetry(lost, 0, delivered: true, CancellationToken.None));
        Assert.False(_policy.ShouldRetry(lost, 0, delivered: false, new CancellationToken(canceled: true)));
        Assert.True(_policy.ShouldRetry(lost, 2, delivered: false, CancellationToken.None));
        Assert.False(_policy.ShouldRetry(lost, 3, delivered: false, CancellationToken.None)); // the 4th attempt was the last
    }

    [Fact]
    public void DelaysDoubleUpToTheCapAndEachAttemptHasAFreshGrain()
    {
        var policy = new FrontendRetryPolicy { FirstDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        Assert.Equal([100, 200, 400, 800, 1000, 1000], Enumerable.Range(0, 6).Select(a => policy.Delay(a).TotalMilliseconds));
        Assert.Equal(1000, policy.Delay(200).TotalMilliseconds);
        var keys = Enumerable.Range(0, 4).Select(a => FrontendRetryPolicy.GrainKey("cmpl-1-0", a)).ToArray();
        Assert.Equal("cmpl-1-0", keys[0]);
        Assert.Equal(4, keys.Distinct().Count());
    }
}
