namespace DeepSeekMesh.Silo.Frontend;

/// <summary>Counters of the expert traffic one frontend engine has sent (for metrics and benchmarks).</summary>
public sealed class ExpertTrafficStats
{
    long _steps, _calls, _rows, _bytesSent, _bytesReceived, _retries, _waitTicks, _startTicks, _routeTicks;

    /// <summary>MoE layer invocations (one Start/Wait pair each).</summary>
    public long LayerSteps => Interlocked.Read(ref _steps);
    /// <summary>Expert messages sent: one per expert silo per MoE layer step (per expert on the fallback path).</summary>
    public long Calls => Interlocked.Read(ref _calls);
    public long Rows => Interlocked.Read(ref _rows);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    /// <summary>Expert calls sent again after a transport or silo failure.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>Time spent blocked in Wait() after the shared expert was done.</summary>
    public TimeSpan WaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>Time the engine spent in Start (grouping rows and sending the messages).</summary>
    public TimeSpan StartTime => TimeSpan.FromTicks(Interlocked.Read(ref _startTicks));

    /// <summary>Time the engine spent in router grain calls (gate and top-k on this silo's router grain, the round trip included).</summary>
    public TimeSpan RouteTime => TimeSpan.FromTicks(Interlocked.Read(ref _routeTicks));

    internal void Routed(TimeSpan time) => Interlocked.Add(ref _routeTicks, time.Ticks);

    internal void Started(TimeSpan time) => Interlocked.Add(ref _startTicks, time.Ticks);

    internal void Step(int calls, long rows, long bytes)
    {
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _calls, calls);
        Interlocked.Add(ref _rows, rows);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void Received(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);
    internal void Retried() => Interlocked.Increment(ref _retries);
    internal void Waited(TimeSpan time) => Interlocked.Add(ref _waitTicks, time.Ticks);

    public override string ToString() =>
        $"{LayerSteps} layer steps, {Calls} calls, {Rows} rows, {BytesSent} B sent, {BytesReceived} B received, {Retries} retries, waited {WaitTime.TotalMilliseconds:F1} ms";
}
